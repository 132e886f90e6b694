import { afterAll, describe, expect, it } from "vitest";
import { Keys } from "../../../adapters/redis/keys.js";
import { RedisRenderClientStore } from "../../../adapters/redis/redis-render-client-store.js";
import { createTestRedis, deleteKeysWithPrefix, uniquePrefix } from "../../../test/support/redis.js";
import { AssignmentRecords } from "./assignment-records.js";

const prefix = uniquePrefix("assignments");
const redis = createTestRedis();
const store = new RedisRenderClientStore(redis, new Keys(prefix), 3_600_000);
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
});

describe("AssignmentRecords", () => {
  it("writes a session's job at once, again only after everyMs, and each session and job on its own", async () => {
    let clock = 1_000_000;
    const records = new AssignmentRecords(store, 60_000, 100, () => clock);
    await records.record("s1", "job-a");
    const first = await store.lastAssignment("s1", "job-a");
    expect(first).not.toBeNull();
    await redis.zadd(new Keys(prefix).sheepitSessionJobs("s1"), 5, "job-a"); // what a rewrite would change
    clock += 59_999;
    await records.record("s1", "job-a");
    expect(await store.lastAssignment("s1", "job-a")).toBe(5);
    await records.record("s1", "job-b");
    await records.record("s2", "job-a");
    expect(await store.lastAssignment("s1", "job-b")).not.toBeNull();
    expect(await store.lastAssignment("s2", "job-a")).not.toBeNull();
    clock += 1;
    await records.record("s1", "job-a");
    expect(await store.lastAssignment("s1", "job-a")).toBeGreaterThan(5);
  });

  it("keeps at most `max` sessions and jobs in memory, forgetting the oldest", async () => {
    const clock = 1_000_000;
    const records = new AssignmentRecords(store, 60_000, 2, () => clock);
    for (const job of ["x1", "x2", "x3"]) await records.record("s3", job);
    const key = new Keys(prefix).sheepitSessionJobs("s3");
    await redis.zadd(key, 5, "x1", 5, "x3");
    await records.record("s3", "x3"); // remembered: not written
    await records.record("s3", "x1"); // forgotten: written again
    expect(await store.lastAssignment("s3", "x3")).toBe(5);
    expect(await store.lastAssignment("s3", "x1")).toBeGreaterThan(5);
  });
});
