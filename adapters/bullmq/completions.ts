import { Job as BullJob } from "bullmq";
import type { Job } from "../../src/domain/jobs/job.js";
import type { CompletionResult, Lease } from "../../src/domain/scheduling/capabilities.js";
import { frameId, targetIndices, VIDEO_ID } from "./frame-ids.js";
import type { KnownLeases } from "./known-leases.js";
import type { LeaseReads } from "./lease-reads.js";
import { recordCompletion } from "./lease-scripts.js";
import type { SchedulerContext } from "./scheduler-context.js";
import type { VideoTask } from "./video-task.js";

/** Completes frames (or the video task) of a lease, in the farm's books first, then in BullMQ. */
export class Completions {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly reads: LeaseReads,
    private readonly video: VideoTask,
    private readonly known: KnownLeases,
  ) {}

  /**
   * One script (`recordCompletion`): checks the lock itself, decides which frames count, records
   * them and finishes them in BullMQ, all or nothing. The video task is recorded first, then
   * moved out of BullMQ under the lease's token; when that step is lost the sweep finishes it.
   */
  async complete(lease: Lease, frames?: number[]): Promise<CompletionResult> {
    const indices = targetIndices(lease, frames);
    const whole = lease.phase === "video" || indices.length === lease.indices.length;
    const res = await this.record(lease, "lease", whole, indices);
    if (res.notHeld) {
      this.known.forget(lease.id);
      return { completed: [], lost: [], job: null, notHeld: res.notHeld };
    }
    const accepted = new Set(res.accepted);
    if (lease.phase === "video" && accepted.has("video")) {
      const job = await BullJob.fromId(this.ctx.queues.queue(lease.jobId), VIDEO_ID);
      await job?.moveToCompleted("done", lease.id, false).catch(() => undefined);
    }
    if (res.just) await this.video.startIfAny(lease.jobId);
    const frameOf = (i: number) => lease.frames[lease.indices.indexOf(i)] as number;
    const done = indices.filter((i) => accepted.has(String(i)));
    const lost = indices.filter((i) => !accepted.has(String(i)));
    // The job as the completion left it, unless the video task's BullMQ step ran since.
    const job = lease.phase === "video" || res.just ? null : res.job;
    return { completed: done.map(frameOf), lost: lost.map(frameOf), job };
  }

  /**
   * Completes a frame of a lease that ran out, when nobody holds the frame now and BullMQ has not
   * finished it: recorded first (the script checks that no lock is on it), then its BullMQ job is
   * removed from the line. A claim that takes the frame in between finds it completed and
   * settles it (`recordClaim`). False when the frame is held by another lease, failed or gone.
   */
  async completeLate(leaseId: string, sessionId: string, frame: number): Promise<boolean> {
    const lease = await this.reads.getLease(leaseId);
    if (!lease || lease.sessionId !== sessionId || lease.phase !== "render") return false;
    const index = lease.indices[lease.frames.indexOf(frame)];
    if (index === undefined) return false;
    const res = await this.record(lease, "late", false, [index]);
    if (res.accepted.length === 0) return false;
    const job = await BullJob.fromId(this.ctx.queues.queue(lease.jobId), frameId(index));
    await job?.remove().catch(() => undefined);
    if (res.just) await this.video.startIfAny(lease.jobId);
    return true;
  }

  private async record(
    lease: Lease,
    mode: "lease" | "late",
    whole: boolean,
    indices: number[],
  ): Promise<{ just: boolean; accepted: string[]; job: Job | null; notHeld?: "not-found" | "not-yours" }> {
    const { keys } = this.ctx;
    const now = new Date();
    const res = await recordCompletion.run<Array<number | string>>(
      this.ctx.redis,
      [keys.job(lease.jobId), keys.frameStates(lease.jobId), keys.lease(lease.id), keys.sessionLeases(lease.sessionId)],
      [
        lease.sessionId,
        lease.id,
        lease.phase,
        now.toISOString(),
        now.getTime(),
        keys.bull(lease.jobId, ""),
        mode,
        whole ? 1 : 0,
        ...indices,
      ],
    );
    const code = Number(res[0]);
    if (code < 0) return { just: false, accepted: [], job: null, notHeld: code === -1 ? "not-found" : "not-yours" };
    return {
      job: await this.ctx.jobRecords.fromLive(lease.jobId, res[6]),
      just: Number(res[4]) === 1,
      accepted: String(res[5] ?? "")
        .split(",")
        .filter(Boolean),
    };
  }
}
