import { isFarmError } from "../errors.js";
import type { JobService } from "../jobs/job-service.js";
import type { WorkService } from "../scheduling/work-service.js";
import { mayKeepRunning } from "./may-keep-running.js";
import type { WorkerStore } from "./worker-store.js";

/** Whether a worker may go on running a task (Flamenco 3's `may-i-run`). */
export interface RunVerdict {
  mayKeepRunning: boolean;
  reason: string;
  /** A status request waits for the worker now: it must stop and ask `state`. */
  statusChangeRequested: boolean;
}

/**
 * The check a worker makes every few seconds while it renders, so a canceled chunk is killed at
 * once. The same rules as a task update (WorkerService.updateTask): the task must be the worker's
 * and still held, its job in a status in which held work may go on, and no immediate status request
 * pending for the worker. Asking changes nothing.
 */
export class TaskRunCheck {
  constructor(
    private readonly work: WorkService,
    private readonly store: WorkerStore,
    private readonly jobs: JobService,
  ) {}

  async check(workerId: string, taskId: string): Promise<RunVerdict> {
    const no = (reason: string, statusChangeRequested = false): RunVerdict => ({
      mayKeepRunning: false,
      reason,
      statusChangeRequested,
    });
    const [lease, request] = await Promise.all([this.work.lease(taskId), this.store.request(workerId)]);
    if (!lease) return no("Task not found");
    if (lease.sessionId !== workerId) return no("task not assigned to this worker");
    if (lease.state !== "active") return no(`task is ${lease.state}`);
    const job = await this.jobs.get(lease.jobId).catch((err) => {
      if (isFarmError(err, "not-found")) return null;
      throw err;
    });
    if (!job) return no("job was deleted");
    if (!mayKeepRunning(job.status)) return no(`job is ${job.status}`);
    if (request && !request.lazy) return no(`worker is asked to go ${request.status}`, true);
    return { mayKeepRunning: true, reason: "", statusChangeRequested: false };
  }
}
