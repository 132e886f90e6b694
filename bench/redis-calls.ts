import type { Redis } from "ioredis";
import { bareBullmq } from "./bare-bullmq.js";
import { addBareFrames, bareClaimComplete, drain, farmClaimComplete, type Step } from "./claim-loops.js";
import { benchJob } from "./scheduler.js";
import { createBenchFarm, measure, printTable } from "./support.js";

/**
 * What a one-frame claim+complete costs inside Redis, command by command: BENCH_CALLS_FRAMES
 * (20,000) frames from BENCH_CALLS_LOOPS (16) loops through `farm.work` (claim, then complete), and
 * as many prioritized jobs through bare BullMQ (`Worker.getNextJob` + `moveToCompleted`, the jobs
 * added before timing), each with `INFO commandstats` read before and after: calls per frame and
 * Redis's µs per frame of each command (those a script calls included: a script's own line,
 * EVALSHA, includes its calls' time), and Redis's CPU per frame (`used_cpu_*`). Keep the bench
 * Redis otherwise idle: the counts are the whole server's.
 */

const FRAMES = Number(process.env.BENCH_CALLS_FRAMES ?? 20_000);
const LOOPS = Number(process.env.BENCH_CALLS_LOOPS ?? 16);
const LEASE_MS = 30 * 60_000;

type Stats = Map<string, { calls: number; usec: number }>;

async function commandStats(redis: Redis): Promise<Stats> {
  const info = await redis.info("commandstats");
  const out: Stats = new Map();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out.set(m[1] as string, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

interface Round {
  what: string;
  perFrame: Map<string, { calls: number; usec: number }>;
  redisCpuUs: number;
  nodeCpuUs: number;
  framesPerS: number;
}

/** Runs `step` from LOOPS loops until FRAMES frames were taken, under commandstats and CPU meters. */
async function metered(what: string, redis: Redis, step: Step): Promise<Round> {
  const before = await commandStats(redis);
  const m = await measure(redis, () => drain(LOOPS, FRAMES, step));
  const taken = m.value;
  const after = await commandStats(redis);
  const perFrame = new Map<string, { calls: number; usec: number }>();
  for (const [cmd, a] of after) {
    if (cmd === "info") continue;
    const b = before.get(cmd) ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) perFrame.set(cmd, { calls: (a.calls - b.calls) / taken, usec: (a.usec - b.usec) / taken });
  }
  return {
    what,
    perFrame,
    redisCpuUs: (m.redisCpuMs * 1000) / taken,
    nodeCpuUs: (m.nodeCpuMs * 1000) / taken,
    framesPerS: (taken / m.wallMs) * 1000,
  };
}

async function farmRound(): Promise<Round> {
  const bf = createBenchFarm("calls");
  try {
    const job = await bf.farm.jobs.submit(benchJob(bf.storageRoot, FRAMES, 1));
    await bf.farm.scheduler.filled(job.id);
    const round = await metered("farm.work claim+complete", bf.redis, farmClaimComplete(bf.farm, 1, LEASE_MS, "calls"));
    const done = await bf.farm.jobs.get(job.id);
    if (done.completedFrames !== FRAMES) throw new Error(`completed ${done.completedFrames} of ${FRAMES} frames`);
    return round;
  } finally {
    await bf.close();
  }
}

async function bareRound(): Promise<Round> {
  const bare = bareBullmq("calls-bare", LEASE_MS);
  try {
    await addBareFrames(bare.queue, FRAMES, true);
    return await metered(
      "bare BullMQ getNextJob+moveToCompleted, prioritized",
      bare.redis,
      bareClaimComplete(bare.worker, LOOPS),
    );
  } finally {
    await bare.close();
  }
}

export async function run(): Promise<void> {
  const rounds = [await bareRound(), await farmRound()];
  printTable(
    `One-frame claim+complete, ${FRAMES.toLocaleString("en-US")} frames from ${LOOPS} loops: per frame`,
    ["what", "frames/s", "Redis CPU µs", "node CPU µs", "commands (in scripts too)", "EVALSHA µs"],
    rounds.map((r) => {
      let calls = 0;
      for (const [cmd, s] of r.perFrame) if (cmd !== "evalsha" && cmd !== "eval") calls += s.calls;
      return [r.what, r.framesPerS, r.redisCpuUs, r.nodeCpuUs, calls, r.perFrame.get("evalsha")?.usec ?? 0];
    }),
  );
  const commands = [...new Set(rounds.flatMap((r) => [...r.perFrame.keys()]))].sort(
    (a, b) => (rounds[1]?.perFrame.get(b)?.usec ?? 0) - (rounds[1]?.perFrame.get(a)?.usec ?? 0),
  );
  printTable(
    "Each command per frame (calls / Redis µs), bare BullMQ then the farm",
    ["command", "bare calls", "bare µs", "farm calls", "farm µs"],
    commands.map((cmd) => {
      const [b, f] = rounds.map((r) => r.perFrame.get(cmd) ?? { calls: 0, usec: 0 });
      return [cmd, b?.calls ?? 0, b?.usec ?? 0, f?.calls ?? 0, f?.usec ?? 0];
    }),
  );
}
