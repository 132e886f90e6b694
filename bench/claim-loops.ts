import { randomUUID } from "node:crypto";
import type { Queue, Worker } from "bullmq";
import type { Farm } from "../src/app/farm.js";

/**
 * The claim+complete loops the scheduler benches time (bench/scheduler.ts, bench/redis-calls.ts):
 * the farm's through `farm.work` and bare BullMQ's, each a `step` that `drain` runs from concurrent
 * loops.
 */

/** One unit of a loop: how many frames it took (0: nothing to take right now). */
export type Step = (loop: number) => Promise<number>;

/**
 * Runs `loops` concurrent loops of `step` until `total` units were taken. `step` answers how many
 * it took (0: nothing to take right now, which only ends a loop once everything was taken).
 */
export async function drain(loops: number, total: number, step: Step): Promise<number> {
  let taken = 0;
  let empty = 0;
  await Promise.all(
    Array.from({ length: loops }, async (_, k) => {
      while (taken < total) {
        const n = await step(k);
        if (n === 0) {
          empty++;
          if (empty > total * 10) throw new Error(`nothing to take, with ${total - taken} of ${total} left`);
          await new Promise((r) => setImmediate(r));
        }
        taken += n;
      }
    }),
  );
  return taken;
}

/** A claim of up to `maxFrames` through `farm.work`, then its completion; each loop a session. */
export function farmClaimComplete(farm: Farm, maxFrames: number, leaseMs: number, label = "bench"): Step {
  return async (k) => {
    const sessionId = `${label}-${k}`;
    const got = await farm.work.claim({
      caps: { sessionId, taskTypes: ["blender"], device: "any" },
      maxFrames,
      leaseMs,
    });
    if (!got) return 0;
    const res = await farm.work.complete(got.lease.id, sessionId);
    if (res.lost.length > 0) throw new Error(`lost frames ${res.lost.join(",")}`);
    return got.lease.frames.length;
  };
}

/** Adds `frames` plain BullMQ jobs (prioritized: by index, as the farm stores frames), 1,000 a batch. */
export async function addBareFrames(queue: Queue, frames: number, prioritized: boolean): Promise<void> {
  for (let i = 0; i < frames; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, frames - i) }, (_, k) => ({
        name: "frame",
        data: { i: i + k },
        opts: { removeOnComplete: true, ...(prioritized ? { priority: i + k + 1 } : {}) },
      })),
    );
  }
}

/** Bare BullMQ's manual loop: `getNextJob` then `moveToCompleted`, each loop a token of its own. */
export function bareClaimComplete(worker: Worker, loops: number): Step {
  const tokens = Array.from({ length: loops }, () => randomUUID());
  return async (k) => {
    const token = tokens[k] as string;
    const job = await worker.getNextJob(token, { block: false });
    if (!job) return 0;
    await job.moveToCompleted("done", token, false);
    return 1;
  };
}
