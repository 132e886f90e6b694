import fs from "node:fs";
import path from "node:path";
import { performance as perf } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { Hono } from "hono";
import { createHttpApp } from "../src/app/server.js";
import type { ClientJob, ClientResult } from "./sheepit-client-thread.js";
import {
  type BenchFarm,
  createBenchFarm,
  listen,
  type Measured,
  measure,
  percentile,
  prepareSheepit,
  printTable,
} from "./support.js";

/**
 * SheepIt clients over HTTP against one gateway, next to a bare Hono route, in the same run:
 * - BENCH_SHEEPIT_CLIENTS (16) simulated SheepIt clients (test/simulators/sheepit-client.ts) with
 *   instant renders render a job of BENCH_SHEEPIT_FRAMES (1500) EXR frames: each frame is a
 *   request_job (cookie session, `<cache>` body, claim, signed validation URL, XML answer) and an
 *   upload (multipart streamed to disk, EXR checked, atomic rename, completion, points).
 *   Reported: frames/s, HTTP requests/s, p50/p99 of request_job answers that gave a frame.
 * - The baseline: as many concurrent clients posting to a bare Hono route answering a fixed
 *   `<jobrequest>` as many times as the gateway round called request_job.
 * Clients run in a worker thread (bench/sheepit-client-thread.ts), the gateway on the main thread.
 */

const CLIENTS = Number(process.env.BENCH_SHEEPIT_CLIENTS ?? 16);
const FRAMES = Number(process.env.BENCH_SHEEPIT_FRAMES ?? 1500);
const PASSWORD = "bench-password";

const FIXED_ANSWER =
  '<?xml version="1.0" encoding="utf-8" ?>\n<jobrequest status="0"><stats credits_session="0" credits_total="0" frame_remaining="1" waiting_project="1" connected_machine="1" renderable_project="1"/><job id="20" use_gpu="0" archive_md5="00000000000000000000000000000000" path="scene.blend" frame="0001" synchronous_upload="0" validation_url="http%3A%2F%2F127.0.0.1%2Fserver%2Fsend_frame.php%3Fjob%3D20" name="bench" password="" extras=""><renderer md5="00000000000000000000000000000000" commandline=".e -b .c -o .o -f .f" update_method="remainingtime"/><script>import bpy</script></job></jobrequest>';

interface Round {
  what: string;
  frames: number | string;
  requests: number;
  latencies: number[];
  busy: number;
  /** Milliseconds the gateway's event loop was busy. */
  busyMs: number;
  m: Measured<ClientResult>;
}

/** Runs clients in a worker thread: they get ready (log in), then the clock runs until they finish. */
async function round(
  bf: BenchFarm,
  job: ClientJob,
): Promise<{ m: Measured<ClientResult>; busy: number; busyMs: number }> {
  const thread = new Worker(new URL("./sheepit-client-thread.js", import.meta.url), { workerData: job });
  try {
    const result = new Promise<ClientResult>((resolve, reject) => {
      thread.on("error", reject);
      thread.on("message", (msg: { ready?: boolean; result?: ClientResult; error?: string }) => {
        if (msg.error) reject(new Error(msg.error));
        else if (msg.result) resolve(msg.result);
      });
    });
    await new Promise<void>((resolve) => thread.once("message", () => resolve()));
    const elu0 = perf.eventLoopUtilization();
    const m = await measure(bf.redis, async () => {
      thread.postMessage("go");
      return result;
    });
    const elu = perf.eventLoopUtilization(elu0);
    return { m, busy: elu.utilization, busyMs: elu.active };
  } finally {
    await thread.terminate();
  }
}

async function gatewayRound(bf: BenchFarm): Promise<Round> {
  const scratch = await prepareSheepit(bf, "bench", PASSWORD);
  const dir = path.join(bf.storageRoot, "bench");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "scene.blend"), "BLENDER".repeat(1000));
  const job = await bf.farm.jobs.submit({
    type: "simple-blender-render",
    name: "bench sheepit clients",
    priority: 50,
    settings: {
      blender_cmd: "{blender}",
      filepath: path.join(dir, "scene.blend"),
      render_output: path.join(bf.storageRoot, "frames", "######"),
      frames: `1-${FRAMES}`,
      chunk_size: 1,
      format: "OPEN_EXR",
      output_file_extension: ".exr",
      images_or_video: "images",
    },
    metadata: {},
  });
  const server = await listen(createHttpApp(bf.farm).fetch);
  // Validation URLs are absolute: the gateway must know the URL it is reached at.
  (bf.farm.config as { publicUrl: string }).publicUrl = server.url;
  try {
    const { m, busy, busyMs } = await round(bf, {
      mode: "sims",
      url: server.url,
      clients: CLIENTS,
      login: "bench",
      password: PASSWORD,
      workDir: scratch,
    });
    const j = await bf.farm.jobs.get(job.id);
    if (j.status !== "completed" || m.value.frames !== FRAMES) {
      throw new Error(`expected ${FRAMES} frames and a completed job, saw ${m.value.frames} and ${j.status}`);
    }
    return {
      what: "gateway, SheepIt protocol",
      frames: m.value.frames,
      requests: m.value.requests,
      latencies: m.value.latencies,
      busy,
      busyMs,
      m,
    };
  } finally {
    await server.close();
  }
}

async function bareRound(bf: BenchFarm, total: number): Promise<Round> {
  const app = new Hono();
  app.post("/server/request_job.php", (c) => c.body(FIXED_ANSWER, 200, { "Content-Type": "text/xml; charset=utf-8" }));
  const server = await listen(app.fetch);
  try {
    const { m, busy, busyMs } = await round(bf, { mode: "bare", url: server.url, clients: CLIENTS, total });
    return {
      what: "bare Hono route",
      frames: "-",
      requests: m.value.requests,
      latencies: m.value.latencies,
      busy,
      busyMs,
      m,
    };
  } finally {
    await server.close();
  }
}

export async function run(): Promise<void> {
  const bf = createBenchFarm("sheepit", { SHEEPIT_LEASE: "30m" });
  try {
    const gateway = await gatewayRound(bf);
    const bare = await bareRound(bf, gateway.latencies.length);
    const stats = [gateway, bare].map((r) => {
      const sorted = [...r.latencies].sort((a, b) => a - b);
      return { r, p50: percentile(sorted, 50), p99: percentile(sorted, 99), secs: r.m.wallMs / 1000 };
    });
    printTable(
      `SheepIt clients (${CLIENTS} clients, ${FRAMES} frames, instant renders) vs a bare Hono route`,
      [
        "what",
        "frames",
        "frames/s",
        "requests",
        "req/s",
        "request_job p50 ms",
        "p99 ms",
        "gateway busy",
        "busy ms/request",
        "node cpu ms",
        "redis cpu ms",
      ],
      stats.map(({ r, p50, p99, secs }) => [
        r.what,
        r.frames,
        typeof r.frames === "number" ? r.frames / secs : "-",
        r.requests,
        r.requests / secs,
        p50,
        p99,
        `${Math.round(r.busy * 100)}%`,
        r.busyMs / r.requests,
        r.m.nodeCpuMs,
        r.m.redisCpuMs,
      ]),
    );
    const [g, b] = stats;
    if (g && b) {
      process.stdout.write(
        `request_job vs bare route: p50 ×${(g.p50 / b.p50).toFixed(1)}, p99 ×${(g.p99 / b.p99).toFixed(1)}; ` +
          `a frame (request_job + upload) costs ${((g.secs / (g.r.frames as number)) * 1000 * CLIENTS).toFixed(1)} ms of a client's time\n`,
      );
    }
  } finally {
    await bf.close();
  }
}
