import { afterAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeysWithPrefix, uniquePrefix } from "../../test/support/redis.js";
import { Keys } from "./keys.js";
import { RedisSessionStore } from "./redis-session-store.js";

const prefix = uniquePrefix("sessions");
const redis = createTestRedis();
const store = new RedisSessionStore(redis, new Keys(prefix));
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
});

const session = (id: string, lastSeen: number) => ({
  id,
  protocol: "sheepit" as const,
  name: `n-${id}`,
  status: "awake",
  caps: { sessionId: id, taskTypes: ["blender"], device: "cpu" as const, ramKb: 1000 },
  created: new Date(0).toISOString(),
  lastSeen,
  attrs: { os: "linux" },
});

describe("RedisSessionStore.getFresh", () => {
  it("returns and touches a session seen recently, in one call", async () => {
    await store.put(session("fresh", 1_000));
    const got = await store.getFresh("fresh", 500, 2_000);
    expect(got?.fresh).toBe(true);
    expect(got?.session).toMatchObject({ id: "fresh", name: "n-fresh", lastSeen: 2_000, attrs: { os: "linux" } });
    expect(got?.session.caps).toEqual(session("fresh", 0).caps);
    expect((await store.get("fresh"))?.lastSeen).toBe(2_000);
    expect(await store.unseenSince(1_500)).not.toContain("fresh");
  });

  it("does not revive a session unseen too long, and knows no unknown one", async () => {
    await store.put(session("stale", 1_000));
    const got = await store.getFresh("stale", 5_000, 9_000);
    expect(got?.fresh).toBe(false);
    expect((await store.get("stale"))?.lastSeen).toBe(1_000);
    expect(await store.getFresh("nobody", 0)).toBeNull();
  });
});
