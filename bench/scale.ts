import { randomBytes, randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { Redis } from "ioredis";
import type { JobDefinition } from "../src/domain/jobs/job.js";
import { bareBullmq } from "./bare-bullmq.js";
import { awakeWorker, postJson } from "./flamenco-http.js";
import { startGatewayProcess } from "./gateway-process.js";
import { type BenchFarm, benchRedisUrl, createBenchFarm, percentile, printTable } from "./support.js";

/**
 * The farm at scale: 1, 100, 1,000 and 10,000 runnable jobs (BENCH_SCALE_LEVELS), each level on a
 * fresh prefix, against a real gateway in a process of its own (bench/gateway-process.ts, composed
 * as src/app/main.ts, sweeping every SWEEP_INTERVAL: BENCH_SCALE_SWEEP, else the default 15 s) and
 * a farm in this process (the domain's view):
 * - the jobs are submitted in a burst through the gateway's `POST /api/jobs` (BENCH_SCALE_CONCURRENCY
 *   in flight); the 10,000 level is 10,000 one-frame jobs, smaller levels have enough frames per job
 *   for the claims below;
 * - Redis connections of each process (its sockets to Redis, found in CLIENT LIST), after the burst
 *   and after the claims (sweeps ran meanwhile); Redis memory for the level (INFO used_memory);
 * - latency of one-frame claims (BENCH_SCALE_SAMPLES each): through the domain (`farm.work.claim`,
 *   then an untimed complete), and through the gateway's `POST /api/worker/task` (a registered
 *   Flamenco worker; the task completed untimed after each); next to bare BullMQ
 *   (`Worker.getNextJob` on one queue holding as many jobs as the level) and `GET /api/version`;
 * - a sweep of the farm (every periodic check) timed in this process;
 * - then every frame left is claimed and completed (8 loops): all must be claimable.
 * Ratios: against bare BullMQ in the same level, and against the 1-job level for growth.
 */

const LEVELS = (process.env.BENCH_SCALE_LEVELS ?? "1,100,1000,10000").split(",").map(Number);
const SAMPLES = Number(process.env.BENCH_SCALE_SAMPLES ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_SCALE_CONCURRENCY ?? 16);
const WARMUP = 30;
const LEASE_MS = 30 * 60_000;
/** The gateway process's SWEEP_INTERVAL (BENCH_SCALE_SWEEP); unset: the gateway's default (15 s). */
const SWEEP = process.env.BENCH_SCALE_SWEEP;

function oneJob(storageRoot: string, k: number, frames: number): JobDefinition {
  return {
    type: "simple-blender-render",
    name: `scale ${k}`,
    priority: 50,
    settings: {
      blender_cmd: "{blender}",
      filepath: `${storageRoot}/scale/scene.blend`,
      render_output: `${storageRoot}/scale/j${k}/######`,
      frames: frames === 1 ? "1" : `1-${frames}`,
      chunk_size: 1,
      format: "PNG",
      output_file_extension: ".png",
      images_or_video: "images",
    },
    metadata: {},
  };
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
}

/** CLIENT LIST entries whose client port is one of `ports` (one process's sockets to Redis). */
async function clientListCount(redis: Redis, ports: number[]): Promise<number> {
  const wanted = new Set(ports);
  const list = (await redis.client("LIST")) as string;
  return list.split("\n").filter((l) => {
    const port = Number(/\baddr=[^ ]*:(\d+)\b/.exec(l)?.[1]);
    return wanted.has(port);
  }).length;
}

/** Local ports of this process's sockets to Redis. */
function ownRedisPorts(): number[] {
  const redisPort = Number(new URL(benchRedisUrl()).port || 6379);
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles
    .filter((h): h is Socket => typeof (h as Socket).remotePort === "number")
    .filter((s) => s.remotePort === redisPort && typeof s.localPort === "number")
    .map((s) => s.localPort as number);
}

async function timedMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

interface Level {
  jobs: number;
  framesPerJob: number;
  burstMs: number;
  burstFirstP50: number;
  burstLastP50: number;
  memBytes: number;
  connGateway: number[];
  connBench: number[];
  gatewayRssMb: number;
  domain: number[];
  http: number[];
  bare: number[];
  version: number[];
  /** Median ms of each periodic check, timed in this process: after the burst, after the claims. */
  sweeps: Record<string, [number, number]>;
  drained: number;
  expected: number;
}

async function bareClaims(jobs: number, samples: number): Promise<number[]> {
  const bare = bareBullmq("bench-scale-bare", LEASE_MS);
  const { queue, worker } = bare;
  try {
    const total = Math.max(jobs, samples + WARMUP);
    for (let i = 0; i < total; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, total - i) }, (_, k) => ({
          name: "frame",
          data: { i: i + k },
          opts: { removeOnComplete: true, priority: 50 },
        })),
      );
    }
    const token = randomUUID();
    const out: number[] = [];
    for (let i = 0; i < samples + WARMUP; i++) {
      let job: Awaited<ReturnType<typeof worker.getNextJob>>;
      const ms = await timedMs(async () => {
        job = await worker.getNextJob(token, { block: false });
      });
      if (!job) throw new Error("bare BullMQ: no job");
      await job.moveToCompleted("done", token, false);
      if (i >= WARMUP) out.push(ms);
    }
    return out;
  } finally {
    await bare.close();
  }
}

/** Median of 5 runs of each periodic check (what `farm.sweep` runs, one by one), ms. */
async function timeSweeps(bf: BenchFarm): Promise<Record<string, number>> {
  const checks: Record<string, () => Promise<unknown>> = {
    scheduler: () => bf.farm.scheduler.sweep(),
    "flamenco-workers": () => bf.farm.workers.sweep(),
    "gateway-video": () => bf.farm.video.sweep(),
    "move-to-final": () => bf.farm.jobs.completeFinished(),
    "all (farm.sweep)": () => bf.farm.sweep(),
  };
  const out: Record<string, number> = {};
  for (const [name, fn] of Object.entries(checks)) {
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) runs.push(await timedMs(fn));
    out[name] = percentile(sorted(runs), 50);
  }
  return out;
}

async function level(jobs: number): Promise<Level> {
  const framesPerJob = jobs >= 10_000 ? 1 : Math.ceil((2 * (SAMPLES + WARMUP)) / jobs) + 1;
  const bf: BenchFarm = createBenchFarm(`scale-${jobs}`);
  const mem0 = await usedMemory(bf.redis);
  const gw = await startGatewayProcess({
    REDIS_URL: benchRedisUrl(),
    REDIS_PREFIX: bf.prefix,
    STORAGE_ROOT: bf.storageRoot,
    DATA_DIR: `${bf.storageRoot}/.data`,
    LOG_LEVEL: "silent",
    TASK_TIMEOUT: "30m",
    ...(SWEEP ? { SWEEP_INTERVAL: SWEEP } : {}),
  });
  const conns = async () => {
    const s = await gw.stats();
    return {
      gateway: await clientListCount(bf.redis, s.redisPorts),
      bench: await clientListCount(bf.redis, ownRedisPorts()),
      rssMb: s.rssMb,
    };
  };
  try {
    // The burst: every job through the gateway's job API, CONCURRENCY in flight.
    const latencies: number[] = new Array(jobs);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, jobs) }, async () => {
        while (next < jobs) {
          const k = next++;
          const s0 = performance.now();
          const res = await postJson(`${gw.url}/api/jobs`, oneJob(bf.storageRoot, k, framesPerJob));
          const body = (await res.json()) as { id?: string; message?: string };
          if (res.status !== 200 || !body.id) throw new Error(`POST /api/jobs: ${res.status} ${body.message}`);
          latencies[k] = performance.now() - s0;
        }
      }),
    );
    const burstMs = performance.now() - t0;
    const tenth = Math.max(1, Math.floor(jobs / 10));
    const burstFirstP50 = percentile(sorted(latencies.slice(0, tenth)), 50);
    const burstLastP50 = percentile(sorted(latencies.slice(-tenth)), 50);
    await new Promise((r) => setTimeout(r, 1500));
    const memBytes = (await usedMemory(bf.redis)) - mem0;
    const c1 = await conns();
    const afterBurst = await timeSweeps(bf);

    const version: number[] = [];
    for (let i = 0; i < SAMPLES + WARMUP; i++) {
      const ms = await timedMs(async () => (await fetch(`${gw.url}/api/version`)).text());
      if (i >= WARMUP) version.push(ms);
    }

    // Claims through the domain.
    const domain: number[] = [];
    const sessionId = `scale-${randomBytes(3).toString("hex")}`;
    for (let i = 0; i < SAMPLES + WARMUP; i++) {
      let got: Awaited<ReturnType<typeof bf.farm.work.claim>> = null;
      const ms = await timedMs(async () => {
        got = await bf.farm.work.claim({
          caps: { sessionId, taskTypes: ["blender"], device: "any" },
          maxFrames: 1,
          leaseMs: LEASE_MS,
        });
      });
      const a = got as Awaited<ReturnType<typeof bf.farm.work.claim>>;
      if (!a) throw new Error(`domain claim ${i}: nothing to claim`);
      await bf.farm.work.complete(a.lease.id, sessionId);
      if (i >= WARMUP) domain.push(ms);
    }

    // Claims through the gateway: a Flamenco worker's POST /api/worker/task.
    const auth = await awakeWorker(gw.url, "scale-bench");
    const http: number[] = [];
    for (let i = 0; i < SAMPLES + WARMUP; i++) {
      let res: Response | undefined;
      let text = "";
      const ms = await timedMs(async () => {
        res = await postJson(`${gw.url}/api/worker/task`, {}, auth);
        text = await res.text();
      });
      if (res?.status !== 200) throw new Error(`POST /api/worker/task ${i}: ${res?.status} ${text}`);
      const task = JSON.parse(text) as { uuid: string };
      const done = await postJson(`${gw.url}/api/worker/task/${task.uuid}`, { taskStatus: "completed" }, auth);
      if (done.status !== 204) throw new Error(`task update: ${done.status} ${await done.text()}`);
      if (i >= WARMUP) http.push(ms);
    }
    const c2 = await conns();

    const afterClaims = await timeSweeps(bf);
    const sweeps = Object.fromEntries(
      Object.entries(afterClaims).map(([k, v]) => [k, [afterBurst[k] ?? Number.NaN, v] as [number, number]]),
    );

    const bare = await bareClaims(jobs, SAMPLES);

    // Everything left must be claimable.
    const expected = jobs * framesPerJob - 2 * (SAMPLES + WARMUP);
    let drained = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, k) => {
        const sid = `${sessionId}-drain-${k}`;
        for (;;) {
          const a = await bf.farm.work.claim({
            caps: { sessionId: sid, taskTypes: ["blender"], device: "any" },
            maxFrames: 1,
            leaseMs: LEASE_MS,
          });
          if (!a) return;
          drained += a.lease.frames.length;
          await bf.farm.work.complete(a.lease.id, sid);
        }
      }),
    );
    const c3 = await conns();
    return {
      jobs,
      framesPerJob,
      burstMs,
      burstFirstP50,
      burstLastP50,
      memBytes,
      connGateway: [c1.gateway, c2.gateway, c3.gateway],
      connBench: [c1.bench, c2.bench, c3.bench],
      gatewayRssMb: Math.max(c1.rssMb, c2.rssMb, c3.rssMb),
      domain: sorted(domain),
      http: sorted(http),
      bare: sorted(bare),
      version: sorted(version),
      sweeps,
      drained,
      expected,
    };
  } finally {
    await gw.stop();
    await bf.close();
  }
}

const formatMs = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(2));

export async function run(): Promise<void> {
  // A throw-away level first, so the first measured one does not pay for this process's warm-up.
  await level(1);
  const levels: Level[] = [];
  for (const n of LEVELS) {
    levels.push(await level(n));
    process.stdout.write(`  level ${n.toLocaleString("en-US")} done\n`);
  }
  const first = levels[0] as Level;
  const p = (xs: number[], q: number) => percentile(xs, q);

  printTable(
    "Redis connections per process (CLIENT LIST entries of the process's own sockets: after the burst / after the claims / after the drain)",
    ["runnable jobs", "gateway process", "farm in the bench process", "gateway RSS MB", "RSS ratio to 1 job"],
    levels.map((l) => [
      l.jobs,
      l.connGateway.join(" / "),
      l.connBench.join(" / "),
      l.gatewayRssMb,
      l.gatewayRssMb / first.gatewayRssMb,
    ]),
  );
  printTable(
    `One-frame claim latency, ms (${SAMPLES} claims each; ratio of p50 to bare BullMQ getNextJob on a queue of as many jobs, and to the 1-job level)`,
    [
      "runnable jobs",
      "domain p50",
      "domain p99",
      "×bare",
      "×1 job",
      "POST /task p50",
      "p99",
      "×bare",
      "×1 job",
      "bare BullMQ p50",
      "p99",
      "GET /api/version p50",
    ],
    levels.map((l) => [
      l.jobs,
      p(l.domain, 50),
      p(l.domain, 99),
      p(l.domain, 50) / p(l.bare, 50),
      p(l.domain, 50) / p(first.domain, 50),
      p(l.http, 50),
      p(l.http, 99),
      p(l.http, 50) / p(l.bare, 50),
      p(l.http, 50) / p(first.http, 50),
      p(l.bare, 50),
      p(l.bare, 99),
      p(l.version, 50),
    ]),
  );
  printTable(
    `Submission burst through POST /api/jobs (${CONCURRENCY} in flight), Redis memory, sweep, and every frame claimable`,
    [
      "runnable jobs",
      "frames/job",
      "burst s",
      "jobs/s",
      "p50 first 10% ms",
      "p50 last 10% ms",
      "last/first",
      "Redis MB",
      "Redis B/job",
      "Redis B/frame",
      "claimable",
    ],
    levels.map((l) => [
      l.jobs,
      l.framesPerJob,
      l.burstMs / 1000,
      (l.jobs / l.burstMs) * 1000,
      l.burstFirstP50,
      l.burstLastP50,
      l.burstLastP50 / l.burstFirstP50,
      l.memBytes / 2 ** 20,
      l.memBytes / l.jobs,
      l.memBytes / (l.jobs * l.framesPerJob),
      `${l.drained}/${l.expected}${l.drained === l.expected ? "" : " MISSING"}`,
    ]),
  );
  const names = Object.keys(first.sweeps);
  printTable(
    "Periodic checks, median of 5 runs in the bench process, ms: after the burst (nothing claimed) / after the claims (jobs engaged); ×1 job of the latter",
    ["check", ...levels.map((l) => `${l.jobs.toLocaleString("en-US")} jobs`), "×1 job at the last level"],
    names.map((n) => [
      n,
      ...levels.map((l) => (l.sweeps[n] ?? []).map((x) => formatMs(x)).join(" / ")),
      ((levels.at(-1) as Level).sweeps[n]?.[1] ?? Number.NaN) / (first.sweeps[n]?.[1] ?? Number.NaN),
    ]),
  );
  const bad = levels.filter((l) => l.drained !== l.expected);
  if (bad.length > 0) throw new Error(`frames not claimable at ${bad.map((l) => l.jobs).join(", ")} jobs`);
}
