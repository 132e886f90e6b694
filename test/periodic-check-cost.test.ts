import { afterAll, describe, expect, it } from "vitest";
import { SWEEP_BATCH } from "../adapters/bullmq/sweep.js";
import { renderClientsOf } from "../src/app/render-clients.js";
import type { JobDefinition } from "../src/domain/jobs/job.js";
import { FINAL_MOVE_QUIET_MS, FINAL_MOVES_PER_SWEEP } from "../src/domain/jobs/move-to-final.js";
import type { Capabilities } from "../src/domain/scheduling/capabilities.js";
import { CommandCounter, type Count, tally } from "./support/command-counter.js";
import { createTestFarm, exampleJob, type TestFarm } from "./support/farm.js";

/**
 * Issue 10: "periodic checks cost the same with 10 or 10,000 jobs" and "submitting 10,000 one-frame
 * jobs in a burst leaves the gateway and Redis healthy and every job claimable". One run of every
 * periodic check of a gateway (`Farm.sweep`: the scheduler's stalled and orphan checks and frame
 * fills, the Flamenco workers' liveness and sleep schedules, the gateway's video, move-to-final, the
 * SheepIt sessions' timeouts) is counted on the farm's connection with 10 and with 10,000 queued
 * one-frame jobs, half of them 3.x jobs that end with a move to their final folder.
 */

const SMALL = 10;
const LARGE = 10_000;
/** Submissions and claims in flight at once (a burst, but a bounded one). */
const CONCURRENCY = 16;
const SWEEP_INTERVAL_MS = 300;
const LEASE = 10 * 60_000;
/** Engaged jobs the scheduler's sweep looks at per run (BullmqScheduler's `sweepJobs` default). */
const SWEEP_JOBS = 200;

const caps = (sessionId: string): Capabilities => ({ sessionId, taskTypes: ["blender"], device: "any" });

const farms: TestFarm[] = [];
afterAll(async () => {
  for (const t of farms) await t.close();
});

/** Clients of the test Redis whose name mentions this farm's prefix (what its process opened). */
async function farmConnections(t: TestFarm): Promise<number> {
  const list = (await t.redis.client("LIST")) as string;
  return list
    .split("\n")
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? "")
    .filter((name) => name.includes(t.prefix)).length;
}

/** Runs `fn` for 0..n-1 with at most `CONCURRENCY` calls in flight. */
async function inParallel(n: number, fn: (k: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let k = next++; k < n; k = next++) await fn(k);
    }),
  );
}

/** A one-frame job; odd ones compiled the 3.x way (rendered into an intermediate folder, moved at the end). */
function oneFrameJob(t: TestFarm, k: number): JobDefinition {
  const def = exampleJob(t.storageRoot, { frames: "1", chunk_size: 1 });
  if (k % 2 === 1) {
    def.settings.render_output_path = `${t.storageRoot}/v3/shot-${k}/######`;
    def.settings.render_output = `${t.storageRoot}/v3/shot-${k}__intermediate-2026-12-02_141500/######`;
  }
  return def;
}

/** A lock or BullMQ stalled-check mark set by the last sweep has run out (the next sweep does everything). */
const intervalPassed = () => new Promise((resolve) => setTimeout(resolve, SWEEP_INTERVAL_MS + 100));

interface Profile {
  burstMs: number;
  connections: { before: number; afterBurst: number; afterClaims: number };
  queued: Count;
  claimed: Count;
  /** The move-to-final sweep a minute after the claims (their notes are old enough to be looked at). */
  finalMovesLater: Count;
  claims: number;
  claimedJobs: number;
}

async function profile(jobs: number): Promise<Profile> {
  const t = createTestFarm(`periodic-${jobs}`, {
    SWEEP_INTERVAL: `${SWEEP_INTERVAL_MS}ms`,
    GATEWAY_FFMPEG: "true",
    FFMPEG_CMD: "ffmpeg",
  });
  farms.push(t);
  await t.redis.client("SETNAME", `test-main-${t.prefix}`);
  // Every sweeper a gateway registers (the SheepIt one joins with the render clients).
  renderClientsOf(t.farm);
  // A Flamenco worker (with a sleep schedule) and a SheepIt session, both seen just now.
  const now = Date.now();
  for (const protocol of ["flamenco", "sheepit"] as const) {
    await t.farm.sessions.put({
      id: `${protocol}-1`,
      protocol,
      name: `${protocol} client`,
      status: "awake",
      caps: caps(`${protocol}-1`),
      created: new Date(now).toISOString(),
      lastSeen: now,
      attrs: {},
    });
  }
  await t.farm.workers.sleep.set("flamenco-1", {
    isActive: true,
    daysOfWeek: "",
    startTime: "00:00",
    endTime: "00:01",
  });
  const counter = new CommandCounter(t.redis);
  const before = await farmConnections(t);

  const started = Date.now();
  const ids: string[] = [];
  await inParallel(jobs, async (k) => {
    ids.push((await t.farm.jobs.submit(oneFrameJob(t, k))).id);
  });
  const burstMs = Date.now() - started;
  expect(new Set(ids).size).toBe(jobs);
  // Redis answers and the farm's scripts run.
  await t.farm.ready();
  const afterBurst = await farmConnections(t);

  // Warm up (the scripts are loaded), then one counted run of every periodic check.
  await t.farm.sweep();
  await intervalPassed();
  const queued = await counter.count(() => t.farm.sweep());

  // Every job is claimable, each exactly once.
  const claimed = new Map<string, number>();
  let claims = 0;
  await inParallel(CONCURRENCY, async (w) => {
    for (let n = 0; ; n++) {
      const got = await t.farm.work.claim({ caps: caps(`c-${w}-${n}`), maxFrames: 1, leaseMs: LEASE });
      if (!got) return;
      expect(got.lease.frames).toHaveLength(1);
      claims++;
      claimed.set(got.job.id, (claimed.get(got.job.id) ?? 0) + 1);
    }
  });
  const afterClaims = await farmConnections(t);
  expect(await t.farm.work.claim({ caps: caps("late"), maxFrames: 1, leaseMs: LEASE })).toBeNull();

  // The periodic checks with every job's frame out (what the sweep looks at follows the work out).
  await intervalPassed();
  const claimedSweep = await counter.count(() => t.farm.sweep());
  const finalMovesLater = await counter.count(() =>
    t.farm.jobs.completeFinished(Date.now() + FINAL_MOVE_QUIET_MS + 1000),
  );

  const strip = ({ commands, roundTrips }: Count): Count => ({ commands, roundTrips });
  return {
    burstMs,
    connections: { before, afterBurst, afterClaims },
    queued: strip(queued),
    claimed: strip(claimedSweep),
    finalMovesLater: strip(finalMovesLater),
    claims,
    claimedJobs: [...claimed.values()].filter((n) => n === 1).length,
  };
}

describe("the periodic checks of a gateway", () => {
  it("cost the same with 10 or 10,000 queued jobs, and a burst of 10,000 leaves every job claimable", async () => {
    const small = await profile(SMALL);
    const large = await profile(LARGE);
    for (const [name, p] of [
      ["10", small],
      ["10,000", large],
    ] as const) {
      // One line each for the record.
      console.log(
        `${name} jobs: burst ${p.burstMs} ms; connections ${JSON.stringify(p.connections)}; ` +
          `sweep with jobs queued: ${p.queued.roundTrips} round trips, ${p.queued.commands.length} commands (${tally(p.queued.commands)}); ` +
          `with every frame out: ${p.claimed.roundTrips} round trips, ${p.claimed.commands.length} commands (${tally(p.claimed.commands)}); ` +
          `move-to-final a minute later: ${p.finalMovesLater.roundTrips} round trips, ${p.finalMovesLater.commands.length} commands (${tally(p.finalMovesLater.commands)})`,
      );
    }

    for (const [p, jobs] of [
      [small, SMALL],
      [large, LARGE],
    ] as const) {
      expect(p.claims).toBe(jobs);
      expect(p.claimedJobs).toBe(jobs);
      expect(p.connections.afterBurst).toBe(p.connections.before);
      expect(p.connections.afterClaims).toBe(p.connections.before);
      expect(p.connections.afterClaims).toBeLessThanOrEqual(20);
    }
    // Queued jobs cost the periodic checks nothing.
    expect(large.queued.roundTrips).toBe(small.queued.roundTrips);
    expect(large.queued.commands).toEqual(small.queued.commands);

    // With work out, the scheduler's sweep looks at the engaged jobs (frames out, or claimed in the
    // last minute), at most SWEEP_JOBS a run. Its part is BullMQ's stalled check, sweepJob and the
    // video check per job (adapters/bullmq/sweep.ts, sweepOne), and BullMQ's meta HSET per Queue
    // object made; the jobs go SWEEP_BATCH at a time, their steps pipelined, so a run costs about 3
    // round trips per batch (15 at 10 jobs, 23 at 10,000 measured; 43 and 613 one job after another).
    const stalledChecks = (c: Count) => c.commands.filter((x) => x.includes("moveStalledJobsToWait")).length;
    expect(stalledChecks(small.claimed)).toBe(SMALL);
    expect(stalledChecks(large.claimed)).toBe(SWEEP_JOBS);
    const batches = SWEEP_JOBS / SWEEP_BATCH;
    expect(large.claimed.roundTrips).toBeLessThanOrEqual(small.claimed.roundTrips + 3 * (batches - 1) + 2);
    expect(large.claimed.roundTrips).toBeLessThanOrEqual(large.queued.roundTrips + 3 * batches + 2);
    expect(large.claimed.commands.length).toBeLessThanOrEqual(large.queued.commands.length + 4 * SWEEP_JOBS + 2);
    // The move-to-final sweep looks at at most FINAL_MOVES_PER_SWEEP jobs with work out (the 3.x
    // half), in a few round trips however many it reads.
    const finalReads = (c: Count) => c.commands.filter((x) => x === "hgetall").length;
    expect(finalReads(small.finalMovesLater)).toBe(SMALL / 2);
    expect(finalReads(large.finalMovesLater)).toBe(FINAL_MOVES_PER_SWEEP);
    expect(large.finalMovesLater.roundTrips).toBe(small.finalMovesLater.roundTrips);
  }, 300_000);
});
