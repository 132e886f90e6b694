import { performance as perf } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { Hono } from "hono";
import { createHttpApp } from "../src/app/server.js";
import type { JobDefinition } from "../src/domain/jobs/job.js";
import { hashSecret, verifySecret } from "../src/domain/secrets.js";
import type { ClientJob, ClientResult } from "./flamenco-clients.js";
import { type BenchFarm, createBenchFarm, listen, type Measured, measure, percentile, printTable } from "./support.js";

type Server = Awaited<ReturnType<typeof listen>>;

/**
 * Flamenco workers over HTTP against one gateway, next to a bare Hono route, in the same run:
 * - BENCH_WORKERS (16) simulated workers (test/simulators/flamenco-worker.ts) with instant renders
 *   (no files written) finish a job of BENCH_TASKS (3000) one-frame tasks: each task is
 *   `POST /api/worker/task`, `active`, a command log, a frame log and `completed`, the whole
 *   worker protocol with auth, leases and logs. Reported: tasks/s, HTTP requests/s, and p50/p99
 *   of `POST /api/worker/task` answers that assigned a task.
 * - The baseline: the same number of concurrent clients posting to a bare Hono route (same
 *   @hono/node-server setup, a handler answering a fixed AssignedTask) as many times as the
 *   gateway run made requests.
 * - BENCH_GATEWAYS=2 runs the workers against two gateways on the same Redis (in this process).
 * The clients run in a worker thread (bench/flamenco-clients.ts), the gateway and the bare route
 * on the main thread, Redis beside them; "gateway busy" is the main thread's event-loop
 * utilisation during the round.
 */

const WORKERS = Number(process.env.BENCH_WORKERS ?? 16);
const TASKS = Number(process.env.BENCH_TASKS ?? 3000);
const GATEWAYS = Number(process.env.BENCH_GATEWAYS ?? 1);

const FIXED_TASK = {
  uuid: "1f7b0c3e-3c55-4a53-9d0e-0d6d8a3d1a11",
  job: "6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab",
  name: "render-1",
  status: "active",
  priority: 50,
  job_priority: 50,
  job_type: "simple-blender-render",
  task_type: "blender",
  commands: [
    {
      name: "blender-render",
      parameters: {
        exe: "blender",
        argsBefore: ["--factory-startup", "--background"],
        blendfile: "/farm/bench/scene.blend",
        args: ["--render-output", "/farm/bench/frames/######", "--render-format", "PNG", "--render-frame", "1"],
      },
    },
  ],
};

interface Round {
  what: string;
  tasks: number | string;
  requests: number;
  latencies: number[];
  /** Event-loop utilisation of the main thread (the gateway or the bare route) during the round. */
  busy: number;
  m: Measured<unknown>;
}

/** Runs the clients in a worker thread; `whileRunning` runs once they started, then they stop. */
async function clients(job: ClientJob, whileRunning?: () => Promise<void>): Promise<ClientResult> {
  const thread = new Worker(new URL("./flamenco-clients.js", import.meta.url), { workerData: job });
  try {
    return await new Promise<ClientResult>((resolve, reject) => {
      thread.on("error", reject);
      thread.on("message", (msg: { started?: boolean; result?: ClientResult; error?: string }) => {
        if (msg.error) reject(new Error(msg.error));
        else if (msg.result) resolve(msg.result);
        else if (msg.started && whileRunning) whileRunning().then(() => thread.postMessage("stop"), reject);
      });
    });
  } finally {
    await thread.terminate();
  }
}

async function timed(bf: BenchFarm, fn: () => Promise<ClientResult>) {
  const elu0 = perf.eventLoopUtilization();
  const m = await measure(bf.redis, fn);
  return { m, busy: perf.eventLoopUtilization(elu0).utilization };
}

/** `WORKERS` clients posting to a trivial route until `total` requests were made. */
async function bareRound(bf: BenchFarm, total: number): Promise<Round> {
  const app = new Hono();
  app.post("/api/worker/task", (c) => c.json(FIXED_TASK));
  const server = await listen(app.fetch);
  try {
    const { m, busy } = await timed(bf, () => clients({ mode: "bare", urls: [server.url], workers: WORKERS, total }));
    return { what: "bare Hono route", tasks: "-", requests: m.value.requests, latencies: m.value.latencies, busy, m };
  } finally {
    await server.close();
  }
}

function benchJob(storageRoot: string): JobDefinition {
  return {
    type: "simple-blender-render",
    name: "bench flamenco workers",
    priority: 50,
    settings: {
      blender_cmd: "{blender}",
      filepath: `${storageRoot}/bench/scene.blend`,
      render_output: `${storageRoot}/bench/frames/######`,
      frames: `1-${TASKS}`,
      chunk_size: 1,
      format: "OPEN_EXR",
      output_file_extension: ".exr",
      images_or_video: "images",
    },
    metadata: {},
  };
}

/** `WORKERS` simulated workers finishing a job of `TASKS` one-frame tasks on `GATEWAYS` gateways. */
async function gatewayRound(bf: BenchFarm): Promise<Round> {
  const servers: Server[] = [await listen(createHttpApp(bf.farm).fetch)];
  const twins: BenchFarm[] = [];
  for (let g = 1; g < GATEWAYS; g++) {
    const twin = createBenchFarm("flamenco-twin", { REDIS_PREFIX: bf.prefix, STORAGE_ROOT: bf.storageRoot });
    twins.push(twin);
    servers.push(await listen(createHttpApp(twin.farm).fetch));
  }
  try {
    const job = await bf.farm.jobs.submit(benchJob(bf.storageRoot));
    const untilDone = async () => {
      for (;;) {
        const j = await bf.farm.jobs.get(job.id);
        if (j.status === "completed") return;
        if (j.status === "failed") throw new Error(`the bench job failed: ${j.reason}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    // Registration and sign-on (scrypt, once per worker) happen before the clock starts.
    let inner: Measured<void> | undefined;
    let busy = 0;
    const res = await clients({ mode: "sims", urls: servers.map((s) => s.url), workers: WORKERS }, async () => {
      const elu0 = perf.eventLoopUtilization();
      inner = await measure(bf.redis, untilDone);
      busy = perf.eventLoopUtilization(elu0).utilization;
    });
    if (!inner) throw new Error("the clients never started");
    // The farm's count is the truth: a worker stopped right after its last update may not have
    // heard the answer.
    const done = await bf.farm.jobs.get(job.id);
    if (done.completedFrames !== TASKS || res.abandoned.length > 0) {
      throw new Error(`${done.completedFrames} of ${TASKS} frames completed; 409s: ${res.abandoned.join("; ")}`);
    }
    return {
      what: GATEWAYS > 1 ? `gateway ×${GATEWAYS}, worker protocol` : "gateway, worker protocol",
      tasks: done.completedFrames,
      // Registration, sign-on, handshake and sign-off are outside the clock.
      requests: res.requests - 4 * WORKERS,
      latencies: res.latencies,
      busy,
      m: inner,
    };
  } finally {
    for (const s of servers) await s.close();
    for (const t of twins) await t.close();
  }
}

export async function run(): Promise<void> {
  const bf = createBenchFarm("flamenco");
  try {
    const gateway = await gatewayRound(bf);
    const bare = await bareRound(bf, gateway.requests);
    const rows = [gateway, bare].map((r) => {
      const sorted = [...r.latencies].sort((a, b) => a - b);
      const secs = r.m.wallMs / 1000;
      return {
        r,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        cells: [
          r.what,
          WORKERS,
          r.tasks,
          secs,
          typeof r.tasks === "number" ? r.tasks / secs : "-",
          r.requests / secs,
          percentile(sorted, 50),
          percentile(sorted, 99),
          r.busy * 100,
          r.m.redisCpuMs / r.requests,
        ] as Array<string | number>,
      };
    });
    printTable(
      `Flamenco workers over HTTP (${WORKERS} simulated workers, instant renders, ${TASKS} one-frame tasks; POST /api/worker/task latency of answers that assign a task)`,
      [
        "what",
        "workers",
        "tasks",
        "wall s",
        "tasks/s",
        "req/s",
        "p50 ms",
        "p99 ms",
        "gateway busy %",
        "redis CPU ms/req",
      ],
      rows.map((x) => x.cells),
    );
    const [g, b] = rows as [(typeof rows)[number], (typeof rows)[number]];
    process.stdout.write(
      `\nPOST /api/worker/task vs bare route: p50 ×${(g.p50 / b.p50).toFixed(1)}, p99 ×${(g.p99 / b.p99).toFixed(1)}; ` +
        `requests/s ×${(g.r.requests / g.r.m.wallMs / (b.r.requests / b.r.m.wallMs)).toFixed(2)}\n`,
    );

    // What a worker's secret costs: scrypt once per worker and cache period, not per request.
    const stored = await hashSecret("bench-secret");
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await verifySecret("bench-secret", stored);
    process.stdout.write(
      `worker auth: scrypt check ${((performance.now() - t0) / 5).toFixed(1)} ms, done once per worker per 30 s (verified credentials are cached in the process)\n`,
    );
  } finally {
    await bf.close();
  }
}
