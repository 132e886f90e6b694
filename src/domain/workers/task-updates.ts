import { FarmError, invalid, notFound } from "../errors.js";
import type { JobService } from "../jobs/job-service.js";
import type { WorkService } from "../scheduling/work-service.js";
import { mayKeepRunning, noJob } from "./may-keep-running.js";
import { stamp } from "./task-log.js";
import type { Worker } from "./worker.js";
import type { WorkerStore } from "./worker-store.js";

/** A task update from its worker. `log` is appended, `activity` replaces the last one. */
export interface TaskUpdate {
  status?: string;
  activity?: string;
  log?: string;
}

/** `POST /task/{id}`: a worker's progress, completion or failure of the task it holds. */
export class TaskUpdates {
  constructor(
    private readonly store: WorkerStore,
    private readonly work: WorkService,
    private readonly jobs: JobService,
    /** Lease of a task; every update from its worker extends it (TASK_TIMEOUT). */
    private readonly taskTimeoutMs: number,
    /** The worker; `not-found` for an unknown one. */
    private readonly worker: (id: string) => Promise<Worker>,
  ) {}

  /**
   * A task update from its worker: the log is appended and the activity replaced first, then the
   * status applied (`completed` completes the chunk's frames, `failed` applies the failure rules);
   * any other update extends the lease. `not-yours` (the worker must stop) when the task is not
   * the worker's, ran out, belongs to a job that stopped, or the worker is asked to change status
   * now.
   */
  async updateTask(workerId: string, taskId: string, update: TaskUpdate): Promise<void> {
    const status = update.status;
    if (status === "soft-failed") {
      throw invalid("taskStatus", "task status soft-failed is not allowed to be sent by a worker; send failed");
    }
    if (status !== undefined && status !== "active" && status !== "completed" && status !== "failed") {
      throw invalid("taskStatus", `a worker may send task status active, completed or failed, not ${status}`);
    }
    const [lease, request] = await Promise.all([this.work.lease(taskId), this.store.request(workerId)]);
    if (!lease) throw notFound(`no task ${taskId}`);
    if (lease.sessionId !== workerId) throw new FarmError("not-yours", `task ${taskId} is not assigned to you`);
    if (lease.state !== "active") {
      // A repeated final update (a retry after a lost answer) changes nothing; anything else
      // means the worker works on a task that is no longer its own.
      const same =
        (lease.state === "completed" && status === "completed") ||
        ((lease.state === "failed" || lease.state === "soft-failed") && status === "failed");
      if (same) return;
      throw new FarmError("not-yours", `task ${taskId} is no longer assigned to you (it is ${lease.state})`);
    }
    // The log first (it likely holds the reason for a status change), with the job's status.
    const [job] = await Promise.all([
      this.jobs.get(lease.jobId).catch(noJob),
      update.log || update.activity !== undefined
        ? this.store.noteTask(taskId, { log: update.log, activity: update.activity })
        : undefined,
    ]);
    if (!job || !mayKeepRunning(job.status)) {
      await this.work.release(taskId, workerId);
      throw new FarmError(
        "not-yours",
        `job ${lease.jobId} is ${job?.status ?? "gone"}; stop working on task ${taskId}`,
      );
    }
    if (request && !request.lazy && (status === undefined || status === "active")) {
      await this.work.release(taskId, workerId);
      throw new FarmError("not-yours", `the worker is asked to go ${request.status}; stop working on task ${taskId}`);
    }
    if (status === "completed") {
      const res = await this.work.complete(taskId, workerId);
      if (res.completed.length === 0 && res.lost.length > 0) {
        throw new FarmError("not-yours", `task ${taskId} ran out and went to another worker`);
      }
      return;
    }
    if (status === "failed") {
      const w = await this.worker(workerId);
      const res = await this.work.fail(taskId, workerId, update.activity || "failed by the worker");
      const hard = (await this.work.lease(taskId))?.state === "failed";
      const outcome = hard
        ? "too many workers failed it, the Manager marks it as failed"
        : "the Manager marks it as soft failure; another worker will try it";
      const blocked = res.blocklisted ? `; worker ${w.nickname} is now blocklisted from job ${lease.jobId}` : "";
      await this.store.noteTask(taskId, {
        log: `${stamp()} Task failed by worker ${w.nickname} (${w.id}); ${outcome}${blocked}\n`,
      });
      return;
    }
    await this.work.extend(taskId, workerId, this.taskTimeoutMs);
  }
}
