import { Job as BullJob } from "bullmq";
import { FrameList } from "../../src/domain/jobs/frame-range.js";
import { frameId } from "./frame-ids.js";
import { rewindFrames } from "./frame-window-script.js";
import { clearFailureLists } from "./requeue-scripts.js";
import type { SchedulerContext } from "./scheduler-context.js";
import { requeueCounters } from "./scheduler-scripts.js";
import type { VideoTask } from "./video-task.js";

/** A job requeued: frames back in line fresh (their counters undone), its failures forgotten. */
export class JobRequeue {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly video: VideoTask,
    private readonly batch: number,
  ) {}

  /**
   * Frames go back in line: their BullMQ jobs removed, their states and counters undone
   * (`requeueCounters`), and fresh BullMQ jobs added for those the materialisation cursor has
   * passed. A job requeued whole while not runnable (a finished job) has its cursor rewound
   * instead (`rewindFrames`), so its frames are materialised again a window at a time.
   */
  async requeueFrames(jobId: string, indices: number[]): Promise<void> {
    if (indices.length === 0) return;
    const { redis, keys } = this.ctx;
    const runs = await redis.hget(keys.job(jobId), "runs");
    if (!runs) return;
    const list = new FrameList(JSON.parse(runs));
    const queue = this.ctx.queues.queue(jobId);
    await this.video.remove(jobId);
    if (indices.length === list.length && new Set(indices).size === list.length) {
      await rewindFrames.run(redis, [keys.schedJob(jobId), keys.runnable(), keys.filling()], [jobId]);
    }
    for (let s = 0; s < indices.length; s += this.batch) {
      const slice = indices.slice(s, s + this.batch);
      const existing = await Promise.all(slice.map((i) => BullJob.fromId(queue, frameId(i))));
      await Promise.all(existing.map((j) => j?.remove().catch(() => undefined)));
      const [, , back] = await requeueCounters.run<[number, number, string[]]>(
        redis,
        [keys.job(jobId), keys.frameStates(jobId), keys.schedJob(jobId)],
        slice,
      );
      if (back.length === 0) continue;
      await queue.addBulk(
        back.map(Number).map((i) => ({
          name: "frame",
          data: { i, f: list.frameAt(i) },
          opts: {
            jobId: frameId(i),
            priority: i + 1,
            attempts: this.ctx.opts.taskFailWorkers,
            removeOnComplete: true,
            removeOnFail: false,
          },
        })),
      );
    }
    await this.ctx.markReady(jobId);
  }

  /** Forgets who failed the job: blocklist, failure counts, failure lists (job requeued). */
  async clearFailures(jobId: string): Promise<void> {
    const { keys } = this.ctx;
    const lists = await scanKeys(this.ctx, `${keys.schedJob(jobId)}:sfail:*`);
    await clearFailureLists.run(this.ctx.redis, [keys.blocklist(jobId), keys.failureCounts(jobId), ...lists], []);
  }
}

/** Keys matching `pattern`, each once. */
export async function scanKeys(ctx: SchedulerContext, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await ctx.redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    found.push(...keys);
  } while (cursor !== "0");
  return [...new Set(found)];
}
