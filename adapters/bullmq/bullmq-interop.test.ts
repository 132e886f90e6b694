import { Job as BullJob, Worker } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { createTestFarm, exampleJob, type TestFarm } from "../../test/support/farm.js";

const open: TestFarm[] = [];
afterEach(async () => {
  for (const t of open.reverse()) await t.close();
  open.length = 0;
});

const caps = { sessionId: "s1", taskTypes: ["blender"], device: "any" as const };

/** A plain manual-mode BullMQ Worker takes the next frame of the job's queue and completes it; its id. */
async function completeWithBareWorker(t: TestFarm, jobId: string): Promise<string | undefined> {
  const worker = new Worker(t.farm.keys.queueName(jobId), null, {
    connection: t.redis,
    prefix: t.farm.keys.root,
    autorun: false,
  });
  try {
    const next = await worker.getNextJob("bare-token", { block: false });
    await next?.moveToCompleted("done", "bare-token", false);
    return next?.id;
  } finally {
    await worker.close(true);
  }
}

/**
 * The claim script takes frames the way BullMQ's `moveToActive` does (claim-script.ts): BullMQ's
 * own view of the queue and its own scripts must agree with it, or an upgrade of BullMQ broke it.
 */
describe("frames claimed by the claim script, seen and moved by BullMQ", () => {
  it("are active under the lease's lock, next to frames a BullMQ Worker takes and completes", async () => {
    const t = createTestFarm("interop", { SWEEP_INTERVAL: "1h" });
    open.push(t);
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-4", chunk_size: 2 }));
    const got = await t.farm.work.claim({ caps, maxFrames: 2, leaseMs: 60_000 });
    expect(got?.lease.frames).toEqual([1, 2]);
    const lease = got?.lease as NonNullable<typeof got>["lease"];
    const queue = t.farm.scheduler.queues.queue(job.id);
    expect(await queue.getJobCounts("active", "prioritized", "wait")).toEqual({ active: 2, prioritized: 2, wait: 0 });
    const f0 = (await BullJob.fromId(queue, "f0")) as BullJob;
    expect(await f0.getState()).toBe("active");
    expect(await t.redis.get(`${t.farm.keys.bull(job.id, "f0")}:lock`)).toBe(lease.id);
    expect(await t.redis.pttl(`${t.farm.keys.bull(job.id, "f0")}:lock`)).toBeGreaterThan(50_000);
    expect(f0.attemptsStarted).toBe(1);
    expect(f0.processedOn).toBeGreaterThan(0);

    // A plain BullMQ Worker on the same queue takes the next frame in order, and completes it.
    expect(await completeWithBareWorker(t, job.id)).toBe("f2");
    // BullMQ's extendLocks accepts the lease id as the frames' token; the completion finishes the
    // frames as BullMQ's moveToFinished does (lock, stalled set, active list, the job's hash).
    expect(await t.farm.scheduler.extend(lease.id, "s1", 120_000)).toBe(true);
    expect(await t.redis.pttl(`${t.farm.keys.bull(job.id, "f1")}:lock`)).toBeGreaterThan(100_000);
    const res = await t.farm.work.complete(lease.id, "s1");
    expect(res.completed).toEqual([1, 2]);
    expect(await queue.getJobCounts("active", "prioritized", "completed")).toEqual({
      active: 0,
      prioritized: 1,
      completed: 0,
    });
    expect(await BullJob.fromId(queue, "f0")).toBeUndefined();
    expect(await t.redis.exists(`${t.farm.keys.bull(job.id, "f1")}:lock`, t.farm.keys.bull(job.id, "f1"))).toBe(0);
    expect(await t.redis.smembers(t.farm.keys.bull(job.id, "stalled"))).toEqual([]);
  });

  it("go back in line by BullMQ's stalled check when the lock runs out, to their old place", async () => {
    const t = createTestFarm("interop-stall", { SWEEP_INTERVAL: "1h" });
    open.push(t);
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-3", chunk_size: 1 }));
    const got = await t.farm.work.claim({ caps, maxFrames: 1, leaseMs: 100 });
    expect(got?.lease.frames).toEqual([1]);
    await new Promise((r) => setTimeout(r, 200));
    const queue = t.farm.scheduler.queues.queue(job.id);
    // Two passes of BullMQ's check (mark, then move what is still unlocked), as the sweep runs it.
    for (let pass = 0; pass < 2; pass++) {
      await t.redis.del(t.farm.keys.bull(job.id, "stalled-check"));
      await t.farm.scheduler.sweep();
    }
    expect(await (await BullJob.fromId(queue, "f0"))?.getState()).toBe("waiting");
    const again = await t.farm.work.claim({ caps: { ...caps, sessionId: "s2" }, maxFrames: 1, leaseMs: 60_000 });
    expect(again?.lease.frames).toEqual([1]);
  });

  it("are written by the frame window exactly as BullMQ's own addBulk writes them, and read back by BullMQ", async () => {
    const t = createTestFarm("interop-window", { SWEEP_INTERVAL: "1h", FRAME_WINDOW: "4" });
    open.push(t);
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "10-20", chunk_size: 1 }));
    const queue = t.farm.scheduler.queues.queue(job.id);
    const lazy = await t.redis.hgetall(t.farm.keys.bull(job.id, "f2"));
    // The same frame added by BullMQ to another queue of the same farm.
    const other = t.farm.scheduler.queues.queue("interop-window-bare");
    await other.addBulk([
      {
        name: "frame",
        data: { i: 2, f: 12 },
        opts: { attempts: 3, removeOnComplete: true, removeOnFail: false, jobId: "f2", priority: 3 },
      },
    ]);
    const bare = await t.redis.hgetall(t.farm.keys.bull("interop-window-bare", "f2"));
    expect({ ...lazy, timestamp: "" }).toEqual({ ...bare, timestamp: "" });
    const f2 = (await BullJob.fromId(queue, "f2")) as BullJob;
    expect(f2.opts).toEqual({ attempts: 3, removeOnComplete: true, removeOnFail: false, jobId: "f2", priority: 3 });
    expect(f2.data).toEqual({ i: 2, f: 12 });
    expect(await f2.getState()).toBe("prioritized");
    expect(await queue.getJobCounts("prioritized")).toEqual({ prioritized: 4 });
    // A plain BullMQ Worker takes the window's frames in order too.
    expect(await completeWithBareWorker(t, job.id)).toBe("f0");
    await other.obliterate({ force: true });
  });
});
