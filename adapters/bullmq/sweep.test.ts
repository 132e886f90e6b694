import { describe, expect, it } from "vitest";
import { Keys } from "../redis/keys.js";
import type { FrameFill } from "./frame-fill.js";
import type { FrameSettler } from "./frame-settler.js";
import type { SchedulerContext } from "./scheduler-context.js";
import { SWEEP_BATCH, Sweep } from "./sweep.js";
import type { VideoTask } from "./video-task.js";

/** The sweep over stubs: what it asks of Redis and the parts, in which order, and how concurrently. */
function stubSweep(jobs: number, failing: Set<string>) {
  const ids = Array.from({ length: jobs }, (_, k) => `j${k}`);
  const steps = new Map<string, string[]>(ids.map((id) => [id, []]));
  const warned: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const step = async <T>(jobId: string, name: string, value: T): Promise<T> => {
    steps.get(jobId)?.push(name);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1));
    inFlight--;
    if (failing.has(jobId) && name === "stalled") throw new Error("boom");
    return value;
  };
  const keys = new Keys("t");
  const ctx = {
    keys,
    opts: { sweepJobs: jobs },
    closing: false,
    logger: { warn: (o: { jobId: string }) => warned.push(o.jobId), info: () => undefined },
    redis: {
      zrange: async () => ids,
      // sweepJob: one orphan out per job (bullId, token, letter).
      evalsha: (_sha: string, _n: number, ...rest: string[]) =>
        step(rest.at(-1) as string, "sweepJob", ["f:0", "tok", "l"]),
    },
    queues: { moveStalled: (jobId: string) => step(jobId, "stalled", [] as string[]) },
    markReady: (jobId: string) => step(jobId, "ready", undefined),
  } as unknown as SchedulerContext;
  const settler = {
    onStalled: async () => undefined,
    settleOrphan: (jobId: string) => step(jobId, "orphan", undefined),
  } as unknown as FrameSettler;
  const video = { startIfAny: (jobId: string) => step(jobId, "video", false) } as unknown as VideoTask;
  const fill = { resume: async () => undefined } as unknown as FrameFill;
  return { sweep: new Sweep(ctx, settler, video, fill), steps, warned, maxInFlight: () => maxInFlight };
}

describe("Sweep", () => {
  it("sweeps the engaged jobs a batch at a time, each job's steps in order, a failing job alone", async () => {
    const s = stubSweep(2 * SWEEP_BATCH + 3, new Set(["j1", "j60"]));
    await s.sweep.sweep();
    expect(s.maxInFlight()).toBe(SWEEP_BATCH);
    expect(s.warned.sort()).toEqual(["j1", "j60"]);
    for (const [id, done] of s.steps) {
      if (id === "j1" || id === "j60") expect(done).toEqual(["stalled"]);
      else expect(done).toEqual(["stalled", "sweepJob", "orphan", "ready", "video"]);
    }
  });
});
