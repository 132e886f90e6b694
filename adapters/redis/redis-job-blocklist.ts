import type { Redis } from "ioredis";
import type { BlocklistStore } from "../../src/domain/jobs/job-blocklist.js";
import type { Keys } from "./keys.js";

/**
 * The BlocklistStore port on the scheduler's own keys: the job's blocklist set (read by the
 * claim's `selectJobs`, so a session taken off it is offered the job at its next claim) and its
 * failure counts hash (`recordFailure` blocklists a session when its count reaches the threshold).
 */
export class RedisJobBlocklist implements BlocklistStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  members(jobId: string): Promise<string[]> {
    return this.redis.smembers(this.keys.blocklist(jobId));
  }

  async remove(jobId: string, sessionIds: readonly string[]): Promise<void> {
    await this.redis
      .multi()
      .srem(this.keys.blocklist(jobId), ...sessionIds)
      .hdel(this.keys.failureCounts(jobId), ...sessionIds)
      .exec();
  }
}
