import { afterEach, describe, expect, it } from "vitest";
import type { Capabilities } from "../../src/domain/scheduling/capabilities.js";
import { createTestFarm, exampleJob, type TestFarm, waitFor } from "../../test/support/farm.js";

const open: TestFarm[] = [];
function farmFor(label: string, env: Record<string, string> = {}): TestFarm {
  const t = createTestFarm(label, env);
  open.push(t);
  return t;
}
afterEach(async () => {
  // Twins first (they do not own the keys), owners last.
  for (const t of open.reverse()) await t.close();
  open.length = 0;
});

const caps = (sessionId: string, more: Partial<Capabilities> = {}): Capabilities => ({
  sessionId,
  taskTypes: ["blender", "ffmpeg"],
  device: "any",
  ...more,
});
const LEASE = 60_000;

describe("BullmqScheduler against real Redis", () => {
  it("never hands one frame to two claimers, with many concurrent claimers in two processes", async () => {
    const a = farmFor("nodouble");
    const b = a.twin();
    open.push(b);
    const job = await a.farm.jobs.submit(exampleJob(a.storageRoot, { frames: "1-300", chunk_size: 1 }));
    const seen = new Map<number, string[]>();
    const loop = async (t: TestFarm, sid: string) => {
      for (;;) {
        const got = await t.farm.work.claim({
          caps: caps(sid, { taskTypes: ["blender"] }),
          maxFrames: 3,
          leaseMs: LEASE,
        });
        if (!got) return;
        for (const f of got.lease.frames) seen.set(f, [...(seen.get(f) ?? []), sid]);
        const res = await t.farm.work.complete(got.lease.id, sid);
        expect(res.lost).toEqual([]);
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, k) => loop(k % 2 ? b : a, `s${k}`)));
    expect(seen.size).toBe(300);
    for (const [, holders] of seen) expect(holders).toHaveLength(1);
    const done = await a.farm.jobs.get(job.id);
    expect(done.completedFrames).toBe(300);
    // The video task is next: frames done, video not yet.
    expect(done.status).toBe("active");
    expect(done.videoState).toBe("queued");
  });

  it("checks a lease it claimed itself at completion, without reading it: another session, released, deleted", async () => {
    const t = farmFor("claimed-here");
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-3", chunk_size: 1 }));
    const a = await t.farm.work.claim({ caps: caps("a"), maxFrames: 1, leaseMs: LEASE });
    const id = a?.lease.id as string;
    await expect(t.farm.work.complete(id, "someone-else")).rejects.toMatchObject({ kind: "not-yours" });
    await t.farm.work.release(id, "a");
    await expect(t.farm.work.complete(id, "a")).rejects.toMatchObject({ kind: "not-yours" });
    const b = await t.farm.work.claim({ caps: caps("b"), maxFrames: 1, leaseMs: LEASE });
    expect(b?.lease.frames).toEqual([1]);
    await t.redis.del(t.farm.keys.lease(b?.lease.id as string));
    await expect(t.farm.work.complete(b?.lease.id as string, "b")).rejects.toMatchObject({ kind: "not-found" });
    // Nothing of it was recorded or moved: the frame is still out under b's lock, none completed.
    expect((await t.farm.jobs.get(job.id)).completedFrames).toBe(0);
    expect(await t.redis.get(`${t.farm.keys.bull(job.id, "f0")}:lock`)).toBe(b?.lease.id);
    const c = await t.farm.work.claim({ caps: caps("c"), maxFrames: 1, leaseMs: LEASE });
    expect((await t.farm.work.complete(c?.lease.id as string, "c")).completed).toEqual([2]);
    expect((await t.farm.jobs.get(job.id)).completedFrames).toBe(1);
  });

  it("claims a run of consecutive frames under one lease, cut from the lowest frames", async () => {
    const t = farmFor("chunk");
    await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-10", chunk_size: 4 }));
    const first = await t.farm.work.claim({ caps: caps("w1"), maxFrames: 4, leaseMs: LEASE });
    const second = await t.farm.work.claim({ caps: caps("w2"), maxFrames: 4, leaseMs: LEASE });
    expect(first?.lease.frames).toEqual([1, 2, 3, 4]);
    expect(second?.lease.frames).toEqual([5, 6, 7, 8]);
    expect(first?.lease.id).not.toBe(second?.lease.id);
    // A failed chunk's frames go back individually and the next chunk can be cut differently.
    await t.farm.work.fail(first?.lease.id as string, "w1", "boom");
    const third = await t.farm.work.claim({ caps: caps("w3"), maxFrames: 2, leaseMs: LEASE });
    expect(third?.lease.frames).toEqual([1, 2]);
    // "job-chunk" takes the chosen job's own chunk size (4) but only a consecutive run: 3, 4
    // (9 and 10 are left for the next claim).
    const fourth = await t.farm.work.claim({ caps: caps("w4"), maxFrames: "job-chunk", leaseMs: LEASE });
    expect(fourth?.lease.frames).toEqual([3, 4]);
    const fifth = await t.farm.work.claim({ caps: caps("w5"), maxFrames: "job-chunk", leaseMs: LEASE });
    expect(fifth?.lease.frames).toEqual([9, 10]);
  });

  it("serves higher priority first and shares fairly between equal priorities", async () => {
    const t = farmFor("prio");
    const big = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-100", chunk_size: 1 }, 50));
    const small = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-4", chunk_size: 1 }, 50));
    const urgent = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-2", chunk_size: 1 }, 90));
    const order: string[] = [];
    for (let k = 0; k < 10; k++) {
      const got = await t.farm.work.claim({ caps: caps(`s${k}`), maxFrames: 1, leaseMs: LEASE });
      order.push(
        got?.job.id === big.id
          ? "big"
          : got?.job.id === small.id
            ? "small"
            : got?.job.id === urgent.id
              ? "urgent"
              : "?",
      );
    }
    expect(order.slice(0, 2)).toEqual(["urgent", "urgent"]);
    // The small job, submitted after the big one, is not starved: it takes its turns at once.
    const rest = order.slice(2);
    expect(rest.filter((x) => x === "small")).toHaveLength(4);
    expect(rest.slice(0, 4).filter((x) => x === "small").length).toBeGreaterThanOrEqual(2);
  });

  it("hands out only work the client can do", async () => {
    const t = farmFor("caps");
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-3", chunk_size: 1 }));
    // ffmpeg-only worker: nothing while frames render.
    expect(
      await t.farm.work.claim({ caps: caps("ff", { taskTypes: ["ffmpeg"] }), maxFrames: 1, leaseMs: LEASE }),
    ).toBeNull();
    // Device and memory needs.
    await t.farm.scheduler.setNeeds(job.id, { device: "gpu", ramKb: 4_000_000, renderSeconds: 600 });
    expect(await t.farm.work.claim({ caps: caps("cpu", { device: "cpu" }), maxFrames: 1, leaseMs: LEASE })).toBeNull();
    expect(
      await t.farm.work.claim({ caps: caps("lowram", { ramKb: 1_000_000 }), maxFrames: 1, leaseMs: LEASE }),
    ).toBeNull();
    expect(
      await t.farm.work.claim({ caps: caps("short", { renderSecondsMax: 60 }), maxFrames: 1, leaseMs: LEASE }),
    ).toBeNull();
    const fits = await t.farm.work.claim({
      caps: caps("big", { device: "gpu", ramKb: 8_000_000, renderSecondsMax: 3600 }),
      maxFrames: 1,
      leaseMs: LEASE,
    });
    expect(fits?.lease.frames).toEqual([1]);
    // Blocklisted sessions get nothing from the job.
    await t.redis.sadd(t.farm.keys.blocklist(job.id), "banned");
    expect(
      await t.farm.work.claim({ caps: caps("banned", { device: "gpu" }), maxFrames: 1, leaseMs: LEASE }),
    ).toBeNull();
  });

  it("makes the video task available only after every frame completed, to ffmpeg workers", async () => {
    const t = farmFor("video");
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-4", chunk_size: 2 }));
    const ffmpeg = caps("ff", { taskTypes: ["ffmpeg"] });
    const a = await t.farm.work.claim({ caps: caps("w1", { taskTypes: ["blender"] }), maxFrames: 2, leaseMs: LEASE });
    const b = await t.farm.work.claim({ caps: caps("w2", { taskTypes: ["blender"] }), maxFrames: 2, leaseMs: LEASE });
    await t.farm.work.complete(a?.lease.id as string, "w1");
    expect(await t.farm.work.claim({ caps: ffmpeg, maxFrames: 1, leaseMs: LEASE })).toBeNull();
    await t.farm.work.complete(b?.lease.id as string, "w2");
    expect(
      await t.farm.work.claim({ caps: caps("w1", { taskTypes: ["blender"] }), maxFrames: 2, leaseMs: LEASE }),
    ).toBeNull();
    const video = await t.farm.work.claim({ caps: ffmpeg, maxFrames: 1, leaseMs: LEASE });
    expect(video?.lease.phase).toBe("video");
    expect(video?.lease.taskType).toBe("ffmpeg");
    expect((await t.farm.jobs.get(job.id)).status).toBe("active");
    await t.farm.work.complete(video?.lease.id as string, "ff");
    const done = await t.farm.jobs.get(job.id);
    expect(done.status).toBe("completed");
    expect(done.videoState).toBe("completed");
  });

  it("puts frames of an expired lease back in line; the late holder loses them", async () => {
    const t = farmFor("expire", { MAX_STALLED: "3" });
    await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-2", chunk_size: 2 }));
    const first = await t.farm.work.claim({ caps: caps("gone"), maxFrames: 2, leaseMs: 300 });
    expect(first?.lease.frames).toEqual([1, 2]);
    // The sweep runs BullMQ's stalled check (two passes: mark, then move what is still unlocked).
    const second = await waitFor(
      async () => {
        await t.farm.sweep();
        return t.farm.work.claim({ caps: caps("next"), maxFrames: 2, leaseMs: LEASE });
      },
      10_000,
      100,
    );
    expect(second.lease.frames).toEqual([1, 2]);
    await expect(t.farm.work.complete(first?.lease.id as string, "gone")).rejects.toMatchObject({ kind: "not-yours" });
    const res = await t.farm.work.complete(second.lease.id, "next");
    expect(res.completed).toEqual([1, 2]);
    // The stall counted as a soft failure of the first holder: it is on both frames' failure lists.
    expect((await t.redis.smembers(t.farm.keys.sessionFailedFrames(second.job.id, "gone"))).sort()).toEqual(["0", "1"]);
  });

  it("fails a frame that stalls past the limit instead of circling forever", async () => {
    const t = farmFor("stall", { MAX_STALLED: "1", JOB_FAIL_PERCENT: "100" });
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-2", chunk_size: 1 }));
    const s = (k: number) => caps(`flaky${k}`);
    // Frame 1 is claimed and abandoned twice; the second stall exceeds the limit of 1.
    let k = 0;
    const failedFor = async () => {
      const got = await t.farm.work.claim({ caps: s(k++), maxFrames: 1, leaseMs: 200 });
      await t.farm.sweep();
      if (got?.lease.frames[0] === 2) await t.farm.work.complete(got.lease.id, got.lease.sessionId);
      const j = await t.farm.jobs.get(job.id);
      return j.failedFrames === 1 ? j : undefined;
    };
    const j = await waitFor(failedFor, 15_000, 100);
    expect(j.failedFrames).toBe(1);
    // Nothing is left to hand out: the failed frame does not come back.
    const leftover = await t.farm.work.claim({ caps: caps("late"), maxFrames: 1, leaseMs: LEASE });
    expect(leftover?.lease.phase ?? "none").not.toBe("render");
  });

  it("applies Flamenco's failure rules: failure lists, retries, blocklist, job failure", async () => {
    const t = farmFor("fail", { TASK_FAIL_WORKERS: "3", BLOCKLIST_THRESHOLD: "2", JOB_FAIL_PERCENT: "10" });
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-20", chunk_size: 1 }));
    const claimFail = async (sid: string) => {
      const got = await t.farm.work.claim({ caps: caps(sid), maxFrames: 1, leaseMs: LEASE });
      if (!got) return null;
      const res = await t.farm.work.fail(got.lease.id, sid, "crash");
      return { frame: got.lease.frames[0], ...res };
    };
    // w1 fails frame 1: retried, and w1 never gets frame 1 again.
    expect(await claimFail("w1")).toMatchObject({ frame: 1, retried: [1], failed: [] });
    const again = await t.farm.work.claim({ caps: caps("w1"), maxFrames: 1, leaseMs: LEASE });
    expect(again?.lease.frames).toEqual([2]);
    // A second failure in the job blocklists w1 (threshold 2).
    expect(await t.farm.work.fail(again?.lease.id as string, "w1", "crash")).toMatchObject({ blocklisted: true });
    expect(await t.farm.work.claim({ caps: caps("w1"), maxFrames: 1, leaseMs: LEASE })).toBeNull();
    // Frame 1 fails for good after 3 different workers.
    expect(await claimFail("w2")).toMatchObject({ frame: 1, retried: [1] });
    const third = await claimFail("w3");
    expect(third).toMatchObject({ frame: 1, failed: [1] });
    expect((await t.farm.jobs.get(job.id)).status).toBe("active");
    // 2 of 20 frames failed = 10 %: the job fails.
    await claimFail("w4"); // frame 2 (w1 failed it once): retried
    await claimFail("w5"); // frame 2 fails for good (w1, w4, w5)
    const failed = await t.farm.jobs.get(job.id);
    expect(failed.failedFrames).toBe(2);
    expect(failed.status).toBe("failed");
    expect(await t.farm.work.claim({ caps: caps("w9"), maxFrames: 1, leaseMs: LEASE })).toBeNull();
  });

  it("gives a released session's frames back without counting a failure", async () => {
    const t = farmFor("release");
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-3", chunk_size: 3 }));
    const got = await t.farm.work.claim({ caps: caps("w1"), maxFrames: 3, leaseMs: LEASE });
    expect(await t.farm.work.held("w1")).toHaveLength(1);
    expect(await t.farm.work.releaseAll("w1")).toBe(1);
    expect(await t.farm.work.held("w1")).toHaveLength(0);
    const back = await t.farm.work.claim({ caps: caps("w1"), maxFrames: 3, leaseMs: LEASE });
    expect(back?.lease.frames).toEqual(got?.lease.frames);
    expect(await t.redis.hget(t.farm.keys.failureCounts(job.id), "w1")).toBeNull();
  });
});
