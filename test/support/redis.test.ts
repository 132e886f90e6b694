import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "./redis.js";

describe("test Redis helpers", () => {
  let redis: Redis;
  const a = uniquePrefix("alpha");
  const b = uniquePrefix("alpha"); // same label, still a different prefix

  beforeAll(() => {
    redis = createTestRedis();
  });

  afterAll(async () => {
    await deleteKeysWithPrefix(redis, a);
    await deleteKeysWithPrefix(redis, b);
    redis.disconnect();
  });

  it("provides a Redis URL that answers", async () => {
    expect(redisUrl()).toMatch(/^rediss?:\/\//);
    expect(await redis.ping()).toBe("PONG");
  });

  it("makes short, unique, [a-z0-9-] prefixes", () => {
    expect(a).not.toBe(b);
    expect(a).toMatch(/^t-alpha-[a-z0-9]{6}$/);
    const odd = uniquePrefix("Flamenco Worker_API!!");
    expect(odd).toMatch(/^t-flamenco-worker-api-[a-z0-9]{6}$/);
    expect(uniquePrefix("")).toMatch(/^t-x-[a-z0-9]{6}$/);
    const many = new Set(Array.from({ length: 500 }, () => uniquePrefix("n")));
    expect(many.size).toBe(500);
  });

  it("keeps two prefixes apart, and cleanup removes only its own keys", async () => {
    await redis.set(`{${a}}:job:1`, "a1");
    await redis.hset(`{${a}}:worker:w1`, { name: "w1" });
    await redis.set(`bull:{${a}}:queue:id`, "7");
    await redis.set(`${a}:plain`, "a-plain");
    await redis.set(`{${b}}:job:1`, "b1");
    await redis.set(`${b}:plain`, "b-plain");

    expect(await redis.get(`{${a}}:job:1`)).toBe("a1");
    expect(await redis.get(`{${b}}:job:1`)).toBe("b1");

    const removed = await deleteKeysWithPrefix(redis, a);
    expect(removed).toBe(4);
    expect(await redis.exists(`{${a}}:job:1`, `{${a}}:worker:w1`, `bull:{${a}}:queue:id`, `${a}:plain`)).toBe(0);
    expect(await redis.get(`{${b}}:job:1`)).toBe("b1");
    expect(await redis.get(`${b}:plain`)).toBe("b-plain");

    expect(await deleteKeysWithPrefix(redis, b)).toBe(2);
    expect(await redis.exists(`{${b}}:job:1`, `${b}:plain`)).toBe(0);
  });

  it("refuses an empty prefix", async () => {
    await expect(deleteKeysWithPrefix(redis, "")).rejects.toThrow(/empty prefix/);
  });
});
