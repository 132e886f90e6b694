import { Job as BullJob, UnrecoverableError } from "bullmq";
import type { FailureBooks } from "./failure-books.js";
import { indexOfBullId } from "./frame-ids.js";
import type { LeaseReads } from "./lease-reads.js";
import type { SchedulerContext } from "./scheduler-context.js";

/**
 * Finishes in BullMQ what the farm's books already decided for a frame (a claim set it aside, or
 * the sweep found it out under a lost lease), and records what BullMQ's stalled check decided.
 */
export class FrameSettler {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly reads: LeaseReads,
    private readonly failures: FailureBooks,
  ) {}

  /** Settles frames a claim set aside: fails those that stalled too often, finishes the others in BullMQ. */
  async settleAside(token: string, aside: string[]): Promise<void> {
    for (const entry of aside) {
      const [jobId, bullId, letter] = entry.split("|") as [string, string, string];
      try {
        if (letter === "d") {
          const job = await BullJob.fromId(this.ctx.queues.queue(jobId), bullId);
          if (job) await this.failStalledForGood(jobId, job, token);
        } else await this.settleOrphan(jobId, bullId, token, letter);
      } catch (err) {
        this.ctx.logger.warn(
          { err, jobId, bullId },
          "could not settle a frame set aside by a claim; the sweep retries",
        );
      }
    }
  }

  /** Finishes in BullMQ what the farm already recorded for a frame, or puts it back in line. */
  async settleOrphan(jobId: string, bullId: string, token: string, letter: string | undefined): Promise<void> {
    if (letter === "c" || letter === "f" || letter === "s") {
      const job = await BullJob.fromId(this.ctx.queues.queue(jobId), bullId);
      if (!job) return;
      if (letter === "c") await job.moveToCompleted("done", token, false);
      else if (letter === "f") await job.moveToFailed(new UnrecoverableError("failed"), token, false);
      // A retried failure goes back through BullMQ's attempts, as the client's failure would have.
      else await job.moveToFailed(new Error("failed"), token, false);
      return;
    }
    await this.ctx.queues.backToWait(jobId, bullId, token);
    this.ctx.logger.info({ jobId, bullId, token }, "a frame out under a lost lease went back in line");
  }

  /** BullMQ's stalled checker put a frame back in line: the holder's lease ran out (a soft failure). */
  async onStalled(jobId: string, bullId: string): Promise<void> {
    try {
      const holder = await this.holderOf(jobId, bullId);
      if (holder) {
        const idx = indexOfBullId(bullId);
        const phase = idx < 0 ? "video" : "render";
        await this.failures.record(jobId, holder.sessionId, holder.leaseId, phase, idx < 0 ? [0] : [idx], [], "stall");
      }
      this.ctx.emitProgress(jobId);
    } catch (err) {
      this.ctx.logger.warn({ err, jobId, bullId }, "could not record a stalled frame");
    }
  }

  /** A frame that stalled more often than allowed was handed out: it fails for good. */
  private async failStalledForGood(jobId: string, job: BullJob, token: string): Promise<void> {
    const reason = job.deferredFailure ?? "job stalled more than allowable limit";
    try {
      await job.moveToFailed(new UnrecoverableError(reason), token, false);
    } catch (err) {
      this.ctx.logger.warn({ err, jobId, bullId: job.id }, "could not fail a frame that stalled too often");
      return;
    }
    await this.onStallLimit(jobId, job.id as string, reason);
  }

  /** A frame stalled more often than allowed and was failed: it fails for good. */
  private async onStallLimit(jobId: string, bullId: string, reason: string): Promise<void> {
    try {
      const holder = await this.holderOf(jobId, bullId);
      const idx = indexOfBullId(bullId);
      const phase = idx < 0 ? "video" : "render";
      await this.failures.record(
        jobId,
        holder?.sessionId ?? "",
        holder?.leaseId ?? "",
        phase,
        [],
        idx < 0 ? [0] : [idx],
        "stall",
      );
      this.ctx.logger.info({ jobId, frameIndex: idx, reason }, "frame failed for good");
      this.ctx.emitProgress(jobId);
    } catch (err) {
      this.ctx.logger.warn({ err, jobId, bullId }, "could not record a failed frame");
    }
  }

  private async holderOf(jobId: string, bullId: string): Promise<{ sessionId: string; leaseId: string } | null> {
    const idx = indexOfBullId(bullId);
    if (idx < 0) {
      const ids = await this.ctx.redis.zrevrange(this.ctx.keys.jobLeases(jobId), 0, 0);
      const lease = ids[0] ? await this.reads.getLease(ids[0]) : null;
      return lease && lease.phase === "video" ? { sessionId: lease.sessionId, leaseId: lease.id } : null;
    }
    const st = await this.ctx.redis.hget(this.ctx.keys.frameStates(jobId), String(idx));
    if (!st) return null;
    const [, sessionId, leaseId] = st.split("|");
    return sessionId && leaseId ? { sessionId, leaseId } : null;
  }
}
