import { invalid } from "../errors.js";
import type { WorkService } from "../scheduling/work-service.js";
import type { SessionStore } from "../sessions/session.js";
import type { SleepSchedules } from "./sleep-schedules.js";
import { requestableStatuses, type Worker, type WorkerStatus } from "./worker.js";
import type { WorkerStore } from "./worker-store.js";

/**
 * The state handshake: the status a worker is asked to go to (an operator's request or its sleep
 * schedule), the worker saying it changed status, and operators asking for one.
 */
export class StatusRequests {
  constructor(
    private readonly sessions: SessionStore,
    private readonly store: WorkerStore,
    private readonly work: WorkService,
    private readonly sleep: SleepSchedules,
    /** The worker; `not-found` for an unknown one. */
    private readonly worker: (id: string) => Promise<Worker>,
  ) {}

  /**
   * The status the worker is asked to go to, or null. A lazy request waits until the worker holds
   * no task.
   */
  async requestedStatus(workerId: string): Promise<WorkerStatus | null> {
    const [w, stored, schedule] = await Promise.all([
      this.worker(workerId),
      this.store.request(workerId),
      this.store.sleepSchedule(workerId),
    ]);
    const request = await this.sleep.apply(w, stored, schedule);
    if (!request) return null;
    if (request.lazy && (await this.work.held(workerId)).length > 0) return null;
    return request.status;
  }

  /**
   * The worker changed status (as asked, or on its own). A request it meets is cleared; a worker
   * that is not awake gives back what it holds.
   */
  async stateChanged(workerId: string, status: WorkerStatus): Promise<void> {
    await this.worker(workerId);
    await this.sessions.update(workerId, { status });
    await this.store.clearRequestIf(workerId, status);
    if (status !== "awake") await this.work.releaseAll(workerId);
  }

  /**
   * An operator asks the worker to go to `status` (asleep, awake, offline); lazily: after its
   * current task. Asking for the status it has withdraws a pending request.
   */
  async requestStatus(workerId: string, status: WorkerStatus, lazy: boolean): Promise<void> {
    if (!requestableStatuses.includes(status)) {
      throw invalid("status", `a worker can be asked to go ${requestableStatuses.join(", ")}, not ${status}`);
    }
    const w = await this.worker(workerId);
    await this.store.setRequest(workerId, w.status === status ? null : { status, lazy });
  }
}
