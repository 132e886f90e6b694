import fs from "node:fs";
import path from "node:path";
import { testExr } from "../test/simulators/fake-renderer.js";
import { SheepItClient } from "../test/simulators/sheepit-client.js";
import { awakeWorker, postJson } from "./flamenco-http.js";
import { type GatewayStats, startGatewayProcess } from "./gateway-process.js";
import { createBenchFarm, prepareSheepit, printTable } from "./support.js";

/**
 * Gateway CPU per request: a gateway in a process of its own (bench/gateway-process.ts) and one
 * client at a time, so each request's CPU in the gateway is its own (`process.cpuUsage()` around
 * `app.fetch`, summed per route), and the whole process's CPU per phase (HTTP parsing and writing,
 * sweeps and Redis answers outside a request included). Phases of BENCH_CPU_REQUESTS (400) each:
 * - `GET /bare` on a bare Hono app in the gateway process (bench/gateway-process.ts): the baseline,
 *   the HTTP stack alone, unchanged by the gateway's code;
 * - `GET /api/version`: the gateway's middleware and a fixed JSON answer;
 * - a Flamenco worker: `POST /api/worker/task` (a one-frame task) then `POST /api/worker/task/{id}`
 *   `completed`;
 * - a SheepIt client (test/simulators/sheepit-client.ts, instant renders, EXR): `request_job.php`
 *   then the upload (`send_frame.php`).
 * LOG_LEVEL of the gateway: BENCH_CPU_LOG_LEVEL (default `info`, the gateway's default; its log goes
 * to /dev/null). BENCH_CPU_PROF=<dir> starts the gateway with `--cpu-prof` into that folder.
 */

const REQUESTS = Number(process.env.BENCH_CPU_REQUESTS ?? 1000);
const WARMUP = Number(process.env.BENCH_CPU_WARMUP ?? 1000);
const LOG_LEVEL = process.env.BENCH_CPU_LOG_LEVEL ?? "info";
const PASSWORD = "bench-password";

interface Phase {
  what: string;
  /** Whole gateway process CPU µs per unit of the phase (a request, or a pair). */
  processUs: number;
  units: number;
  routes: GatewayStats["routes"];
}

export async function run(): Promise<void> {
  const bf = createBenchFarm("cpu");
  const scratch = await prepareSheepit(bf, "bench", PASSWORD);
  const dir = path.join(bf.storageRoot, "bench");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "scene.blend"), "BLENDER".repeat(1000));
  const frames = 2 * (REQUESTS + WARMUP) + 10;
  await bf.farm.jobs.submit({
    type: "simple-blender-render",
    name: "bench request cpu",
    priority: 50,
    settings: {
      blender_cmd: "{blender}",
      filepath: path.join(dir, "scene.blend"),
      render_output: path.join(bf.storageRoot, "frames", "######"),
      frames: `1-${frames}`,
      chunk_size: 1,
      format: "OPEN_EXR",
      output_file_extension: ".exr",
      images_or_video: "images",
    },
    metadata: {},
  });
  const profDir = process.env.BENCH_CPU_PROF;
  const gw = await startGatewayProcess(
    {
      REDIS_URL: bf.farm.config.REDIS_URL as string,
      REDIS_PREFIX: bf.prefix,
      STORAGE_ROOT: bf.storageRoot,
      DATA_DIR: path.join(bf.storageRoot, ".data"),
      LOG_LEVEL,
      TASK_TIMEOUT: "30m",
    },
    profDir ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(profDir)}`] : [],
  );
  const phases: Phase[] = [];
  const phase = async (what: string, units: number, warm: () => Promise<void>, step: () => Promise<void>) => {
    for (let i = 0; i < WARMUP; i++) await warm();
    await gw.resetRoutes();
    const s0 = await gw.stats();
    for (let i = 0; i < units; i++) await step();
    const s1 = await gw.stats();
    phases.push({ what, units, processUs: (s1.cpuUs - s0.cpuUs) / units, routes: s1.routes });
  };
  try {
    const version = async () => {
      const res = await fetch(`${gw.url}/api/version`);
      if (res.status !== 200) throw new Error(`GET /api/version: ${res.status}`);
      await res.text();
    };
    const bare = async () => {
      const res = await fetch(`${gw.bareUrl}/bare`);
      if (res.status !== 200) throw new Error(`GET /bare: ${res.status}`);
      await res.text();
    };
    await phase("bare Hono GET /bare", REQUESTS, bare, bare);
    await phase("GET /api/version", REQUESTS, version, version);

    const auth = await awakeWorker(gw.url, "cpu-bench");
    const task = async () => {
      const res = await postJson(`${gw.url}/api/worker/task`, {}, auth);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`POST /api/worker/task: ${res.status} ${text}`);
      const t = JSON.parse(text) as { uuid: string };
      const done = await postJson(`${gw.url}/api/worker/task/${t.uuid}`, { taskStatus: "completed" }, auth);
      if (done.status !== 204) throw new Error(`task update: ${done.status} ${await done.text()}`);
    };
    await phase("Flamenco: POST /task + completed", REQUESTS, task, task);

    const client = new SheepItClient({
      url: gw.url,
      login: "bench",
      password: PASSWORD,
      workDir: path.join(scratch, "c0"),
      hostname: "cpu-bench",
      hwid: "cpu-bench",
      newer: false,
      instantImage: testExr(),
    });
    if ((await client.login()) !== 0) throw new Error("SheepIt login failed");
    const frame = async () => {
      const r = await client.requestJob();
      if (r.status !== 0 || !r.job) throw new Error(`request_job answered ${r.status}`);
      const status = await client.upload(await client.render(r.job));
      if (status !== 0) throw new Error(`upload answered ${status}`);
    };
    await phase("SheepIt: request_job + upload", REQUESTS, frame, frame);
  } finally {
    await gw.stop();
    await bf.close();
  }

  const base = phases[0]?.routes["bare Hono: GET /bare"];
  const baseUs = base ? base.cpuUs / base.requests : Number.NaN;
  const rows: Array<Array<string | number>> = [];
  for (const p of phases) {
    for (const [route, r] of Object.entries(p.routes)) {
      const us = r.cpuUs / r.requests;
      rows.push([p.what, route, r.requests, us, us / baseUs]);
    }
    rows.push([p.what, "(whole process, per unit)", p.units, p.processUs, Number.NaN]);
  }
  printTable(
    `Gateway CPU per request (one client at a time; LOG_LEVEL ${LOG_LEVEL}; ratio against a bare Hono route in the same process and run)`,
    ["phase", "route", "requests", "CPU µs/request", "×bare route"],
    rows.map((r) => r.map((c) => (typeof c === "number" && Number.isNaN(c) ? "-" : c))),
  );
  if (profDir) process.stdout.write(`CPU profile of the gateway process in ${profDir}\n`);
}
