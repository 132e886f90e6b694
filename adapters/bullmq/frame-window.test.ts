import { afterEach, describe, expect, it } from "vitest";
import type { Capabilities } from "../../src/domain/scheduling/capabilities.js";
import { createTestFarm, exampleJob, type TestFarm } from "../../test/support/farm.js";

const open: TestFarm[] = [];
function farmFor(label: string, env: Record<string, string> = {}): TestFarm {
  const t = createTestFarm(label, { SWEEP_INTERVAL: "1h", ...env });
  open.push(t);
  return t;
}
afterEach(async () => {
  for (const t of open.reverse()) await t.close();
  open.length = 0;
});

const caps = (sessionId: string): Capabilities => ({ sessionId, taskTypes: ["blender", "ffmpeg"], device: "any" });
const LEASE = 60_000;

/** Every key of the test farm (its prefix is its own). */
async function farmKeys(t: TestFarm): Promise<string[]> {
  const found = new Set<string>();
  let cursor = "0";
  do {
    const [next, keys] = await t.redis.scan(cursor, "MATCH", `${t.farm.keys.root}:*`, "COUNT", 5000);
    cursor = next;
    for (const k of keys) found.add(k);
  } while (cursor !== "0");
  return [...found];
}

/** The frames of a job that are BullMQ jobs now (materialised). */
async function materialised(t: TestFarm, jobId: string): Promise<number> {
  const prefix = t.farm.keys.bull(jobId, "f");
  return (await farmKeys(t)).filter((k) => k.startsWith(prefix) && !k.endsWith(":lock")).length;
}

/** Claims and completes until nothing is left; returns the frames in the order handed out. */
async function drain(t: TestFarm, sessionId: string, maxFrames: number): Promise<number[]> {
  const order: number[] = [];
  for (;;) {
    const got = await t.farm.work.claim({ caps: caps(sessionId), maxFrames, leaseMs: LEASE });
    if (!got) return order;
    order.push(...got.lease.frames);
    const res = await t.farm.work.complete(got.lease.id, sessionId);
    expect(res.lost).toEqual([]);
  }
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, k) => a + k);

describe("frames in Redis only as needed (a window of BullMQ jobs ahead of the claims)", () => {
  it("a 200,000-frame job costs Redis at most 200 bytes per queued frame, and is claimable at once", async () => {
    const t = farmFor("window-bytes");
    const frames = 200_000;
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: `1-${frames}`, chunk_size: 1 }));
    let bytes = 0;
    for (const key of await farmKeys(t)) bytes += Number(await t.redis.memory("USAGE", key)) || 0;
    expect(bytes / frames).toBeLessThanOrEqual(200);
    expect(await materialised(t, job.id)).toBe(1000);
    const got = await t.farm.work.claim({ caps: caps("w1"), maxFrames: 3, leaseMs: LEASE });
    expect(got?.lease.frames).toEqual([1, 2, 3]);
  });

  it("hands out every frame of a lazy job exactly once, in order, across many window top-ups", async () => {
    const t = farmFor("window-order", { FRAME_WINDOW: "20" });
    // Runs with gaps and a negative start: the window walks the frame list's runs.
    const job = await t.farm.jobs.submit(
      exampleJob(t.storageRoot, { frames: "-5-30,40,50-99,200-260", chunk_size: 1, fps: undefined }),
    );
    const expected = [...range(-5, 30), 40, ...range(50, 99), ...range(200, 260)];
    // Chunks of 7 cross the window's edge (20, topped up when fewer than 10 are in line).
    expect(await drain(t, "w1", 7)).toEqual(expected);
    const done = await t.farm.jobs.get(job.id);
    expect(done.completedFrames).toBe(expected.length);
    expect(done.status).toBe("completed");
    expect(await materialised(t, job.id)).toBe(0);
    expect(await t.redis.hget(t.farm.keys.schedJob(job.id), "enq")).toBe(String(expected.length));
  });

  it("never hands one frame to two claimers, with concurrent claimers in two processes and a small window", async () => {
    const a = farmFor("window-nodouble", { FRAME_WINDOW: "16" });
    const b = a.twin();
    open.push(b);
    const job = await a.farm.jobs.submit(exampleJob(a.storageRoot, { frames: "1-1500", chunk_size: 1 }));
    const seen = new Map<number, number>();
    await Promise.all(
      Array.from({ length: 16 }, async (_, k) => {
        for (const f of await drain(k % 2 ? b : a, `s${k}`, 1 + (k % 3))) seen.set(f, (seen.get(f) ?? 0) + 1);
      }),
    );
    expect(seen.size).toBe(1500);
    for (const [, n] of seen) expect(n).toBe(1);
    expect((await a.farm.jobs.get(job.id)).completedFrames).toBe(1500);
  });

  it("failures and releases across the window's edge go back to their place, never to the same client", async () => {
    const t = farmFor("window-fail", { FRAME_WINDOW: "10" });
    await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-40", chunk_size: 1, fps: undefined }));
    // 12 frames of a window of 10: the claim materialises what it needs; all 12 fail softly.
    const first = await t.farm.work.claim({ caps: caps("w1"), maxFrames: 12, leaseMs: LEASE });
    expect(first?.lease.frames).toEqual(range(1, 12));
    const failed = await t.farm.work.fail(first?.lease.id as string, "w1", "boom");
    expect(failed.retried).toEqual(range(1, 12));
    // w1 never gets its failed frames again: it goes on past them, into frames materialised later.
    const next = await t.farm.work.claim({ caps: caps("w1"), maxFrames: 4, leaseMs: LEASE });
    expect(next?.lease.frames).toEqual([13, 14, 15, 16]);
    await t.farm.work.release(next?.lease.id as string, "w1");
    // Another client gets the failed frames first, then the released ones, in order.
    const other = await t.farm.work.claim({ caps: caps("w2"), maxFrames: 8, leaseMs: LEASE });
    expect(other?.lease.frames).toEqual(range(1, 8));
    await t.farm.work.complete(other?.lease.id as string, "w2");
    expect(await drain(t, "w3", 5)).toEqual(range(9, 40));
  });

  it("requeues frames on both sides of the cursor, and a finished job whole, without materialising it all", async () => {
    const t = farmFor("window-requeue", { FRAME_WINDOW: "10" });
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-60", chunk_size: 1, fps: undefined }));
    const got = await t.farm.work.claim({ caps: caps("w1"), maxFrames: 3, leaseMs: LEASE });
    await t.farm.work.complete(got?.lease.id as string, "w1");
    // Index 1 was completed (behind the cursor); index 40 is past it (not materialised yet).
    await t.farm.jobs.requeueWork(job.id, { indices: [1, 40], video: false }, "again");
    expect((await t.farm.jobs.get(job.id)).completedFrames).toBe(2);
    expect(await drain(t, "w2", 4)).toEqual([2, ...range(4, 60)]);
    const done = await t.farm.jobs.get(job.id);
    expect(done.status).toBe("completed");
    expect(done.completedFrames).toBe(60);

    await t.farm.jobs.setStatus(job.id, "requeued", "whole");
    expect((await t.farm.jobs.get(job.id)).completedFrames).toBe(0);
    expect(await materialised(t, job.id)).toBeLessThanOrEqual(10);
    expect(await drain(t, "w3", 7)).toEqual(range(1, 60));
    expect((await t.farm.jobs.get(job.id)).completedFrames).toBe(60);
  });

  it("a paused job's frames wait unmaterialised; the claims go on where they stopped after it resumes", async () => {
    const t = farmFor("window-pause", { FRAME_WINDOW: "10" });
    const second = await t.farm.jobs.submit(
      exampleJob(t.storageRoot, { frames: "1-50", chunk_size: 1, fps: undefined }),
    );
    const part = await t.farm.work.claim({ caps: caps("w1"), maxFrames: 15, leaseMs: LEASE });
    expect(part?.lease.frames).toEqual(range(1, 15));
    await t.farm.work.complete(part?.lease.id as string, "w1");
    await t.farm.jobs.setStatus(second.id, "paused", "wait");
    await t.farm.scheduler.sweep();
    const before = await materialised(t, second.id);
    expect(before).toBeLessThanOrEqual(10);
    expect(await t.farm.work.claim({ caps: caps("w1"), maxFrames: 1, leaseMs: LEASE })).toBeNull();
    await t.farm.jobs.setStatus(second.id, "queued", "go");
    expect(await drain(t, "w1", 6)).toEqual(range(16, 50));
  });

  it("the sweep tops up a job enqueued before the window existed (no runs, only the old fill's mark)", async () => {
    const t = farmFor("window-legacy", { FRAME_WINDOW: "10" });
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-40", chunk_size: 1, fps: undefined }));
    // As the old background fill left it: frames [0, enq) in line, no runs and no run cursor.
    await t.redis.del(t.farm.keys.schedRuns(job.id));
    await t.redis.hdel(t.farm.keys.schedJob(job.id), "enqrun");
    await t.redis.sadd(t.farm.keys.filling(), job.id);
    expect(await drain(t, "w1", 3)).toEqual(range(1, 10));
    await t.farm.scheduler.sweep();
    await t.farm.scheduler.filled(job.id);
    expect(await drain(t, "w1", 3)).toEqual(range(11, 40));
    expect((await t.farm.jobs.get(job.id)).completedFrames).toBe(40);
  });
});
