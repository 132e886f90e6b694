import { afterAll, describe, expect, it } from "vitest";
import { CommandCounter, type Count } from "./support/command-counter.js";
import { createTestFarm, exampleJob, type TestFarm } from "./support/farm.js";

/**
 * docs/architecture.md states how many Redis round trips one scheduling decision costs, whatever
 * the number of jobs and frames. This counts them on the farm's connection (test/support/command-counter.ts):
 * every command sent, and the round trips.
 */

const caps = (sessionId: string) => ({ sessionId, taskTypes: ["blender"], device: "any" as const });
const LEASE = 10 * 60_000;

interface Profile {
  claim1: Count;
  complete1: Count;
  claim4: Count;
  complete4: Count;
  claim4b: Count;
  fail4: Count;
}

const farms: TestFarm[] = [];
afterAll(async () => {
  for (const t of farms) await t.close();
});

/** Claims, completes and fails on a farm of `jobs` jobs of `frames` frames each, counting each call. */
async function profile(jobs: number, frames: number): Promise<Profile> {
  // No periodic checks during the count: the sweep and BullMQ's stalled checker stay idle.
  const t = createTestFarm(`rt-${jobs}x${frames}`, { SWEEP_INTERVAL: "1h" });
  farms.push(t);
  const ids: string[] = [];
  for (let k = 0; k < jobs; k++) {
    ids.push((await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: `1-${frames}`, chunk_size: 4 }))).id);
  }
  // Any top-up of a frame window this process runs has finished before counting (a claim's own
  // top-up is inside its script: the 10,000-frame jobs cross window edges without a round trip).
  for (const id of ids) await t.farm.scheduler.filled(id);
  const counter = new CommandCounter(t.redis);
  // Warm up: this process's BullMQ objects for every job exist, and the scripts are loaded.
  for (const id of ids) t.farm.scheduler.queues.queue(id);
  const warm = await t.farm.work.claim({ caps: caps("warm"), maxFrames: 1, leaseMs: LEASE });
  if (!warm) throw new Error("nothing to claim");
  await t.farm.work.fail(warm.lease.id, "warm", "warm-up");
  const again = await t.farm.work.claim({ caps: caps("warm-2"), maxFrames: 1, leaseMs: LEASE });
  if (!again) throw new Error("nothing to claim");
  await t.farm.work.complete(again.lease.id, "warm-2");
  await t.farm.events.flush();

  // The step's events and frame counts go out within milliseconds, batched with others: sent
  // here at once, so they are counted with the step (at most a PUBLISH and a count script).
  const step = <T>(fn: () => Promise<T>) =>
    counter.count(async () => {
      const value = await fn();
      await t.farm.events.flush();
      return value;
    });
  const claim = (sid: string, maxFrames: number) =>
    step(async () => {
      const got = await t.farm.work.claim({ caps: caps(sid), maxFrames, leaseMs: LEASE });
      if (!got) throw new Error("nothing to claim");
      return got;
    });
  const c1 = await claim("s1", 1);
  const complete1 = await step(() => t.farm.work.complete(c1.value.lease.id, "s1"));
  const c4 = await claim("s4", 4);
  const complete4 = await step(() => t.farm.work.complete(c4.value.lease.id, "s4"));
  const c4b = await claim("s4b", 4);
  const fail4 = await step(() => t.farm.work.fail(c4b.value.lease.id, "s4b", "boom"));
  expect(c1.value.lease.frames).toHaveLength(1);
  expect(c4.value.lease.frames).toHaveLength(4);
  expect(c4b.value.lease.frames).toHaveLength(4);
  expect(complete1.value.completed).toHaveLength(1);
  expect(complete4.value.completed).toHaveLength(4);
  expect(fail4.value.retried).toHaveLength(4);
  const strip = ({ commands, roundTrips }: Count): Count => ({ commands, roundTrips });
  return {
    claim1: strip(c1),
    complete1: strip(complete1),
    claim4: strip(c4),
    complete4: strip(complete4),
    claim4b: strip(c4b),
    fail4: strip(fail4),
  };
}

describe("Redis round trips of one scheduling decision", () => {
  it("do not grow with the number of jobs or frames (they may with the chunk)", async () => {
    const small = await profile(1, 10);
    const manyJobs = await profile(50, 10);
    const manyFrames = await profile(1, 10_000);

    // One line for the record (docs/architecture.md quotes these figures).
    console.log(
      Object.entries(small)
        .map(([k, c]) => `${k}: ${c.roundTrips} round trips, ${c.commands.length} commands (${c.commands.join(" ")})`)
        .join("; "),
    );

    for (const other of [manyJobs, manyFrames]) {
      for (const k of Object.keys(small) as Array<keyof Profile>) {
        expect(other[k].roundTrips, k).toBe(small[k].roundTrips);
        expect(other[k].commands, k).toEqual(small[k].commands);
      }
    }
    // The bound docs/architecture.md gives: a claim is one script (whatever the chunk; it answers
    // the job's record too), plus the dashboard's events (batched with others).
    expect(small.claim1.roundTrips).toBe(2);
    expect(small.claim1.commands).toEqual(["evalsha:claimWork", "publish"]);
    // A completion of a lease this process claimed: one script (it checks the lease is still
    // held, records, moves the frames out of BullMQ and answers the job's record), then the
    // events and the frame counts (both batched with others). No read of the lease or the job.
    expect(small.complete1.roundTrips).toBe(2);
    expect(small.complete1.commands.filter((c) => c.startsWith("evalsha"))).toHaveLength(2);
    expect(small.complete1.commands).toContain("evalsha:recordCompletion");
    expect(small.complete1.commands).not.toContain("hgetall");
    expect(small.complete4.commands).toEqual(small.complete1.commands);
    expect(small.claim4.roundTrips).toBe(small.claim1.roundTrips);
    expect(small.claim4.commands).toEqual(small.claim1.commands);
  });
});
