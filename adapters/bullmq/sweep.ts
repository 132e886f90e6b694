import type { FrameFill } from "./frame-fill.js";
import type { FrameSettler } from "./frame-settler.js";
import { sweepJob } from "./lease-scripts.js";
import type { SchedulerContext } from "./scheduler-context.js";
import type { VideoTask } from "./video-task.js";

/** A frame out under a token with no active lease for this long goes back (claims in flight are younger). */
const ORPHAN_GRACE_MS = 10_000;
/** A job with nothing out and no claim for this long leaves the sweep's engaged set. */
const ENGAGED_IDLE_MS = 60_000;
/**
 * Engaged jobs swept at once: their steps run concurrently (each job's in its own order), so the
 * connection pipelines them and a run costs a few round trips per batch, not three per job.
 */
export const SWEEP_BATCH = 50;

/**
 * The periodic checks, at a cost that follows the work out rather than the number of jobs: for
 * up to `sweepJobs` engaged jobs (those with frames out or claimed lately, oldest-swept first),
 * BullMQ's stalled check (a lease that ran out puts its frames back in line) and the orphan check
 * (a frame out under a token with no active lease goes back, or finishes the completion or
 * failure already recorded for it); the video task of a job whose frames are all done; and the
 * frame window's top-up of up to `sweepJobs` runnable jobs whose frames are not all materialised.
 * The engaged jobs go in batches of `SWEEP_BATCH`, swept concurrently: each job's steps keep their
 * order (stalled check, sweepJob, orphans settled, video) and a job that fails is logged alone.
 */
export class Sweep {
  private readonly sweepJobs: number;

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly settler: FrameSettler,
    private readonly video: VideoTask,
    private readonly fill: FrameFill,
  ) {
    this.sweepJobs = ctx.opts.sweepJobs ?? 200;
  }

  async sweep(): Promise<void> {
    const ids = await this.ctx.redis.zrange(this.ctx.keys.engaged(), 0, this.sweepJobs - 1);
    for (let i = 0; i < ids.length; i += SWEEP_BATCH) {
      if (this.ctx.closing) return;
      await Promise.all(
        ids
          .slice(i, i + SWEEP_BATCH)
          .map((id) =>
            this.sweepOne(id).catch((err) =>
              this.ctx.logger.warn({ err, jobId: id }, "sweeping a job failed; the next sweep retries"),
            ),
          ),
      );
    }
    await this.fill.resume(this.sweepJobs);
  }

  private async sweepOne(jobId: string): Promise<void> {
    const { keys } = this.ctx;
    const stalled = await this.ctx.queues.moveStalled(jobId);
    for (const bullId of stalled) await this.settler.onStalled(jobId, bullId);
    const now = Date.now();
    const raw = await sweepJob.run<string[]>(
      this.ctx.redis,
      [keys.bull(jobId, "active"), keys.schedJob(jobId), keys.engaged(), keys.frameStates(jobId), keys.job(jobId)],
      [keys.bull(jobId, ""), keys.root, now, ORPHAN_GRACE_MS, ENGAGED_IDLE_MS, jobId],
    );
    for (let k = 0; k < raw.length; k += 3) {
      const bullId = raw[k] as string;
      const token = raw[k + 1] as string;
      const letter = raw[k + 2];
      await this.settler
        .settleOrphan(jobId, bullId, token, letter)
        .catch((err) =>
          this.ctx.logger.warn({ err, jobId, bullId }, "could not settle a frame out under a lost lease"),
        );
    }
    if (stalled.length > 0 || raw.length > 0) await this.ctx.markReady(jobId);
    await this.video.startIfAny(jobId);
  }
}
