import { Job as BullJob } from "bullmq";
import { VIDEO_ID } from "./frame-ids.js";
import { requeueVideo } from "./requeue-scripts.js";
import type { SchedulerContext } from "./scheduler-context.js";

/** A job's video task: one BullMQ job with a fixed id, put in line once every frame completed. */
export class VideoTask {
  constructor(private readonly ctx: SchedulerContext) {}

  /** Adds the job's video task once all its frames completed (idempotent: a fixed BullMQ id). */
  async startIfAny(jobId: string): Promise<boolean> {
    // Check and switch atomically, so only one process adds the task; the job moves to its video
    // phase before the task exists, so no render claim can take it.
    const started = await this.ctx.redis.eval(
      `local h = redis.call('HMGET', KEYS[1], 'video', 'videostate', 'total', 'completed')
      if h[1] ~= '1' or (h[2] or '') ~= '' or tonumber(h[4] or '0') < tonumber(h[3] or '0') then return 0 end
      redis.call('HSET', KEYS[1], 'videostate', 'queued')
      redis.call('HSET', KEYS[2], 'tasktype', 'ffmpeg', 'phase', 'video')
      return 1`,
      2,
      this.ctx.keys.job(jobId),
      this.ctx.keys.schedJob(jobId),
    );
    if (started !== 1) return false;
    await this.ctx.queues
      .queue(jobId)
      .add(
        "video",
        { i: -1, f: -1 },
        { jobId: VIDEO_ID, attempts: this.ctx.opts.taskFailWorkers, removeOnComplete: true, removeOnFail: false },
      );
    await this.ctx.markReady(jobId);
    return true;
  }

  /** Takes the video task out of line (its frames go back in line first). */
  async remove(jobId: string): Promise<void> {
    const video = await BullJob.fromId(this.ctx.queues.queue(jobId), VIDEO_ID);
    await video?.remove().catch(() => undefined);
  }

  /** Puts a video task that did not complete back in line, its failure undone (job requeued). */
  async requeue(jobId: string): Promise<boolean> {
    await this.remove(jobId);
    const { keys } = this.ctx;
    const was = await requeueVideo.run<number>(
      this.ctx.redis,
      [keys.job(jobId), keys.frameStates(jobId), keys.schedJob(jobId)],
      [],
    );
    return was === 1;
  }
}
