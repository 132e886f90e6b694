import type { WorkService } from "../scheduling/work-service.js";
import type { SessionStore } from "../sessions/session.js";
import type { SleepSchedules } from "./sleep-schedules.js";
import type { WorkerStore } from "./worker-store.js";

/** The `flamenco-workers` sweep: workers unseen too long go to `error`, and sleep schedules are applied. */
export class LivenessSweep {
  constructor(
    private readonly sessions: SessionStore,
    private readonly store: WorkerStore,
    private readonly work: WorkService,
    private readonly sleep: SleepSchedules,
    private readonly opts: {
      /** A worker unseen this long goes to `error` and its tasks go back in line (WORKER_TIMEOUT). */
      workerTimeoutMs: number;
      /** How often the sweep runs (SWEEP_INTERVAL); its lock lasts a little less. */
      sweepIntervalMs: number;
    },
  ) {}

  /**
   * The liveness sweep: a worker unseen for the worker timeout goes to `error` and its tasks go
   * back in line; it is asked to return to the status it had, so it recovers through the normal
   * handshake when it comes back. One process at a time runs it (a short Redis lock); returns how
   * many workers timed out, or null when another process holds the lock.
   */
  async sweep(now = Date.now()): Promise<number | null> {
    const lockMs = Math.max(50, Math.floor(this.opts.sweepIntervalMs * 0.9));
    if (!(await this.store.tryLock("workers", lockMs))) return null;
    const cutoff = now - this.opts.workerTimeoutMs;
    let timedOut = 0;
    for (const id of await this.sessions.unseenSince(cutoff)) {
      const s = await this.sessions.get(id);
      if (s?.protocol !== "flamenco" || s.lastSeen >= cutoff) continue;
      if (s.status === "offline" || s.status === "error") continue;
      await this.sessions.update(id, { status: "error" });
      if (!(await this.store.request(id))) {
        await this.store.setRequest(id, { status: s.status === "asleep" ? "asleep" : "awake", lazy: false });
      }
      await this.work.releaseAll(id);
      timedOut++;
    }
    await this.sleep.applyAll(new Date(now));
    return timedOut;
  }
}
