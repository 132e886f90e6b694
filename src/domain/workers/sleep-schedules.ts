import type { SessionStore } from "../sessions/session.js";
import { normaliseSleepSchedule, type SleepSchedule, scheduleRequest } from "./sleep-schedule.js";
import { type StatusRequest, type Worker, workerFromSession } from "./worker.js";
import type { WorkerStore } from "./worker-store.js";

/**
 * Workers' sleep schedules (the rules are sleep-schedule.ts): kept per worker, applied when one is
 * set, whenever the worker asks for work or its state (`WorkerService`), and by the workers' sweep
 * for every worker that has one, so a rendering worker stops when its window begins.
 */
export class SleepSchedules {
  constructor(
    private readonly store: WorkerStore,
    private readonly sessions: SessionStore,
    /** The worker; `not-found` for an unknown one. */
    private readonly worker: (id: string) => Promise<Worker>,
  ) {}

  /** The worker's sleep schedule, or null; `not-found` for an unknown worker. */
  async get(workerId: string): Promise<SleepSchedule | null> {
    await this.worker(workerId);
    return this.store.sleepSchedule(workerId);
  }

  /**
   * Checks and stores the worker's schedule and applies it at once: inside its window the worker
   * is asked to go asleep now (its current task stops), outside it awake.
   */
  async set(workerId: string, schedule: SleepSchedule, now = new Date()): Promise<void> {
    const clean = normaliseSleepSchedule(schedule);
    const [w, request] = await Promise.all([this.worker(workerId), this.store.request(workerId)]);
    await this.store.setSleepSchedule(workerId, clean);
    await this.apply(w, request, clean, now);
  }

  /** The worker's pending request once its schedule had its say at `now` (stored when it changes). */
  async apply(
    w: Worker,
    request: StatusRequest | null,
    schedule: SleepSchedule | null,
    now = new Date(),
  ): Promise<StatusRequest | null> {
    const next = scheduleRequest(schedule, w.status, request, now);
    if (next === undefined) return request;
    await this.store.setRequest(w.id, next);
    return next;
  }

  /** Applies every worker's schedule at `now` (part of the sweep); returns how many requests changed. */
  async applyAll(now = new Date()): Promise<number> {
    let changed = 0;
    for (const id of await this.store.sleepScheduledWorkers()) {
      const s = await this.sessions.get(id);
      if (s?.protocol !== "flamenco") continue;
      const [request, schedule] = await Promise.all([this.store.request(id), this.store.sleepSchedule(id)]);
      if ((await this.apply(workerFromSession(s), request, schedule, now)) !== request) changed++;
    }
    return changed;
  }
}
