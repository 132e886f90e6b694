import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";

/** What the dashboard reads straight from the farm's Redis (read-only; the scheduler writes these). */
export class RedisDashboardReads {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** The scheduler's frame-state records of the job (`index → "a|…"`, `"c|…"`, …); absent frames are queued. */
  frameStateRecords(jobId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.frameStates(jobId));
  }

  /** Frames of each job held under a lease now (BullMQ's active lists), one round trip. */
  async activeFrames(jobIds: string[]): Promise<number[]> {
    if (jobIds.length === 0) return [];
    const m = this.redis.multi();
    for (const id of jobIds) m.llen(this.keys.bull(id, "active"));
    const res = (await m.exec()) ?? [];
    return res.map(([, v]) => Number(v ?? 0));
  }

  /** Which of the jobs the session is blocklisted from. */
  async blocklistedFrom(sessionId: string, jobIds: string[]): Promise<string[]> {
    if (jobIds.length === 0) return [];
    const m = this.redis.multi();
    for (const id of jobIds) m.sismember(this.keys.blocklist(id), sessionId);
    const res = (await m.exec()) ?? [];
    return jobIds.filter((_, k) => Number(res[k]?.[1] ?? 0) === 1);
  }
}
