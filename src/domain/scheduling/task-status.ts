import { FarmError, notFound } from "../errors.js";
import type { JobService } from "../jobs/job-service.js";
import type { WorkerStore } from "../workers/worker-store.js";
import type { Lease } from "./capabilities.js";
import { taskStatus } from "./task-view.js";
import type { WorkService } from "./work-service.js";

const stamp = () => new Date().toISOString();

/**
 * An operator's status change of one task (Flamenco 3's `tasks/{id}/setstatus`), over the verbs
 * that already move frames: a farm task is a lease of frames, so
 * - `canceled` stops an active task: it is taken from its holder (whose next update or
 *   `may-i-run` tells it to stop) and its frames go back in line for the next claim; to stop a
 *   job's frames for good, cancel the job;
 * - `queued` (requeue) takes an active task back the same way, and puts a finished task's frames
 *   (those no newer task took over) back in line, or a failed video task, through
 *   `JobService.requeueWork` (a finished job goes `requeued`).
 * Anything else, or a change that does not fit the task's state, is `invalid-transition` (422).
 */
export class TaskStatusChanges {
  constructor(
    private readonly work: WorkService,
    private readonly jobs: JobService,
    private readonly logs: Pick<WorkerStore, "noteTask">,
  ) {}

  async setStatus(taskId: string, status: string, reason: string): Promise<void> {
    const lease = await this.work.lease(taskId);
    if (!lease) throw notFound(`no task ${taskId}`);
    const why = reason.trim() ? `: ${reason.trim()}` : "";
    if (status !== "queued" && status !== "canceled") {
      throw new FarmError("invalid-transition", `a task can be set to queued (requeue) or canceled, not ${status}`);
    }
    if (lease.state === "active") {
      await this.work.release(lease.id, lease.sessionId, status === "canceled" ? "canceled" : "released");
      const what = status === "canceled" ? "canceled" : "requeued";
      await this.logs.noteTask(lease.id, { log: `${stamp()} Task ${what} by an operator${why}\n` });
      return;
    }
    if (status === "canceled") {
      throw new FarmError(
        "invalid-transition",
        `task ${taskId} is ${taskStatus(lease)}; only an active task can be canceled`,
      );
    }
    const work = await this.requeueable(lease);
    await this.jobs.requeueWork(lease.jobId, work, `task ${taskId} requeued${why}`);
    await this.logs.noteTask(lease.id, { log: `${stamp()} Task requeued by an operator${why}\n` });
  }

  /** What of a finished lease goes back in line: its frames no newer lease took, or the video. */
  private async requeueable(lease: Lease): Promise<{ indices: number[]; video: boolean }> {
    const leases = await this.jobs.tasks(lease.jobId);
    const newer = leases.slice(
      0,
      Math.max(
        0,
        leases.findIndex((l) => l.id === lease.id),
      ),
    );
    const superseded = () =>
      new FarmError("invalid-transition", `task ${lease.id} was taken over by a newer task; requeue that one`);
    if (lease.phase === "video") {
      if (newer.some((l) => l.phase === "video")) throw superseded();
      if (lease.state === "completed") {
        throw new FarmError(
          "invalid-transition",
          `the video task ${lease.id} completed; requeue the job to make it again`,
        );
      }
      return { indices: [], video: true };
    }
    const taken = new Set(newer.flatMap((l) => l.indices));
    const indices = lease.indices.filter((i) => !taken.has(i));
    if (indices.length === 0) throw superseded();
    return { indices, video: false };
  }
}
