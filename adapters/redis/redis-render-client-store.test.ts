import { afterAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeysWithPrefix, uniquePrefix } from "../../test/support/redis.js";
import { Keys } from "./keys.js";
import { RedisRenderClientStore } from "./redis-render-client-store.js";

const prefix = uniquePrefix("render-clients");
const redis = createTestRedis();
const keys = new Keys(prefix);
const store = new RedisRenderClientStore(redis, keys, 60_000);
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
});

describe("RedisRenderClientStore", () => {
  it("recordAssignment: keeps a session's newest 100 jobs, the last one at its assignment time, for keepMs after the last", async () => {
    for (let i = 0; i < 104; i++) await store.recordAssignment("s1", `job-${i}`);
    await new Promise((r) => setTimeout(r, 5));
    const before = Date.now();
    await store.recordAssignment("s1", "newest");
    const recent = await store.recentJobs("s1", 0, 1_000);
    expect(recent).toHaveLength(100);
    expect(recent[0]).toBe("newest");
    expect(await store.lastAssignment("s1", "newest")).toBeGreaterThanOrEqual(before);
    expect(await store.recentJobs("s1", before, 1_000)).toEqual(["newest"]);
    const ttl = await redis.pttl(keys.sheepitSessionJobs("s1"));
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("archiveJobs: the job behind each md5 with its status, null status for a job gone, null for an unknown md5", async () => {
    const record = { key: "k", md5: "a".repeat(32), size: 1, blendPath: "s.blend" };
    await store.setJobArchive("live", record);
    await store.setJobArchive("gone", { ...record, md5: "b".repeat(32) });
    await redis.hset(keys.job("live"), "status", "active");
    expect(await store.archiveJobs(["a".repeat(32), "c".repeat(32), "b".repeat(32)])).toEqual([
      { jobId: "live", status: "active" },
      null,
      { jobId: "gone", status: null },
    ]);
    expect(await store.archiveJobs([])).toEqual([]);
  });
});
