import { afterEach, describe, expect, it } from "vitest";
import type { Capabilities } from "../../src/domain/scheduling/capabilities.js";
import { createTestFarm, exampleJob, type TestFarm, waitFor } from "../../test/support/farm.js";

/**
 * A lease whose answer never reached its client is given back; when Redis does not answer the
 * give-back, it is tried again until it does (a SheepIt session extends everything it holds with
 * each request, so a lease left behind would never run out).
 */

const open: TestFarm[] = [];
afterEach(async () => {
  for (const t of open.reverse()) await t.close();
  open.length = 0;
});

const caps = (sessionId: string): Capabilities => ({ sessionId, taskTypes: ["blender"], device: "any" });

describe("giving back a lease nobody heard of", () => {
  it("gives it back at once while Redis answers", async () => {
    const t = createTestFarm("give-back-now", { SWEEP_INTERVAL: "1h" });
    open.push(t);
    await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-3", chunk_size: 1 }));
    const a = await t.farm.work.claim({ caps: caps("s1"), maxFrames: 1, leaseMs: 60_000 });
    if (!a) throw new Error("nothing to claim");
    await t.farm.scheduler.giveBack(a.lease.id, "s1");
    expect(await t.farm.work.held("s1")).toEqual([]);
    expect((await t.farm.work.lease(a.lease.id))?.state).toBe("released");
  });

  it("tries again after Redis went away, until the lease is back in line", async () => {
    const t = createTestFarm("give-back-later", { SWEEP_INTERVAL: "1h" });
    open.push(t);
    await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-3", chunk_size: 1 }));
    const a = await t.farm.work.claim({ caps: caps("s1"), maxFrames: 1, leaseMs: 60_000 });
    if (!a) throw new Error("nothing to claim");
    // The connection is gone: every command fails at once, as an in-flight one does when Redis dies.
    t.redis.disconnect();
    await t.farm.scheduler.giveBack(a.lease.id, "s1");
    await t.redis.connect();
    expect((await t.farm.work.lease(a.lease.id))?.state).toBe("active");
    await waitFor(async () => (await t.farm.work.held("s1")).length === 0, 10_000, 50);
    expect((await t.farm.work.lease(a.lease.id))?.state).toBe("released");
    // Its frame is handed out again.
    const again = await t.farm.work.claim({ caps: caps("s2"), maxFrames: 1, leaseMs: 60_000 });
    expect(again?.lease.frames).toEqual(a.lease.frames);
  });
});
