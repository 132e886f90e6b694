import { afterAll, describe, expect, it } from "vitest";
import { createTestFarm, exampleJob, type TestFarm } from "../../test/support/farm.js";
import { Keys } from "../redis/keys.js";

const farms: TestFarm[] = [];
afterAll(async () => {
  for (const t of farms) await t.close();
});

describe("a job's BullMQ events stream", () => {
  it("stays empty through claims, completions and sweeps (nothing reads it; it cost a 4.8 kB node)", async () => {
    const t = createTestFarm("events-stream");
    farms.push(t);
    const keys = new Keys(t.prefix);
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-30", chunk_size: 1 }));
    await t.farm.ready();
    let done = 0;
    for (;;) {
      const caps = { sessionId: `c${done}`, taskTypes: ["blender"], device: "any" as const };
      const got = await t.farm.work.claim({ caps, maxFrames: 1, leaseMs: 60_000 });
      if (!got) break;
      await t.farm.work.complete(got.lease.id, caps.sessionId);
      done++;
    }
    expect(done).toBe(30);
    await t.farm.sweep();
    const events = keys.bull(job.id, "events");
    expect(await t.redis.xlen(events)).toBeLessThanOrEqual(2);
    expect(Number(await t.redis.memory("USAGE", events))).toBeLessThan(1000);
  });
});
