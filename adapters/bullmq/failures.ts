import { Job as BullJob } from "bullmq";
import type { FailureResult, Lease } from "../../src/domain/scheduling/capabilities.js";
import type { FailureBooks } from "./failure-books.js";
import { frameId, targetIndices, VIDEO_ID } from "./frame-ids.js";
import type { SchedulerContext } from "./scheduler-context.js";

/** A client's failure of frames (or the video task) of its lease. */
export class Failures {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly books: FailureBooks,
  ) {}

  /**
   * Records the failure first (`recordFailure` checks the lock and decides which frames count;
   * whether a frame fails for good follows BullMQ's attempts), then moves the frames in BullMQ
   * under the lease's token: back in line for another client, or failed. The sweep finishes a
   * BullMQ step that did not happen.
   */
  async fail(lease: Lease, reason: string, frames?: number[]): Promise<FailureResult> {
    const { id: leaseId, sessionId } = lease;
    const queue = this.ctx.queues.queue(lease.jobId);
    const indices = lease.phase === "video" ? [-1] : targetIndices(lease, frames);
    const jobs = await Promise.all(indices.map((i) => BullJob.fromId(queue, i < 0 ? VIDEO_ID : frameId(i))));
    const retried: number[] = [];
    const failed: number[] = [];
    jobs.forEach((job, k) => {
      if (!job) return;
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      (final ? failed : retried).push(indices[k] as number);
    });
    const res = await this.books.record(lease.jobId, sessionId, leaseId, lease.phase, retried, failed, "lease");
    const ok = new Set([...res.retried, ...res.failed]);
    await Promise.all(
      jobs.map((job, k) =>
        job && ok.has(String(indices[k]))
          ? job.moveToFailed(new Error(reason), leaseId, false).catch(() => undefined)
          : undefined,
      ),
    );
    if (res.retried.length > 0) await this.ctx.markReady(lease.jobId);
    const frameOf = (i: string) => lease.frames[lease.indices.indexOf(Number(i))] as number;
    return {
      retried: lease.phase === "video" ? [] : res.retried.map(frameOf),
      failed: lease.phase === "video" ? [] : res.failed.map(frameOf),
      blocklisted: res.blocklisted,
    };
  }
}
