import type { FrameFill } from "./frame-fill.js";
import type { SchedulerContext } from "./scheduler-context.js";

/** Removes everything the scheduler keeps of a job: its queue, leases and scheduling records. */
export class JobRemoval {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly fill: FrameFill,
  ) {}

  async removeJob(jobId: string): Promise<void> {
    const { redis, keys, logger } = this.ctx;
    await this.ctx.setRunnable(jobId, false);
    await this.fill.filled(jobId);
    const queue = this.ctx.queues.queue(jobId);
    await queue.obliterate({ force: true }).catch((err) => logger.warn({ err, jobId }, "obliterate failed"));
    await this.ctx.queues.drop(jobId);
    const leases = await redis.zrange(keys.jobLeases(jobId), 0, -1);
    const pipe = redis.pipeline();
    for (const id of leases) pipe.del(keys.lease(id), keys.leaseLog(id));
    pipe.del(keys.jobLeases(jobId), keys.schedJob(jobId), keys.schedRuns(jobId), keys.blocklist(jobId));
    pipe.del(keys.frameAttempts(jobId));
    pipe.del(keys.failureCounts(jobId));
    pipe.hdel(keys.served(), jobId);
    pipe.zrem(keys.engaged(), jobId);
    pipe.zrem(keys.ready(), jobId);
    pipe.srem(keys.filling(), jobId);
    await pipe.exec();
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `${keys.schedJob(jobId)}:sfail:*`, "COUNT", 500);
      cursor = next;
      if (found.length > 0) await redis.unlink(...found);
    } while (cursor !== "0");
  }
}
