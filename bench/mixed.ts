import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { findFreePort } from "../src/app/local-redis.js";
import type { MixedClientJob, MixedClientResult } from "./mixed-clients.js";
import { type BenchFarm, createBenchFarm, percentile, prepareSheepit, printTable } from "./support.js";

/**
 * One farm, two protocols, under load: BENCH_MIXED_SHEEPIT (50) simulated SheepIt clients and
 * BENCH_MIXED_FLAMENCO (20) simulated Flamenco workers, all with instant renders, render one job
 * of BENCH_MIXED_FRAMES (20,000) PNG frames (chunk size 4 for the workers), through one and then
 * two real gateway processes (`node dist/src/app/main.js`) on the same Redis, clients spread
 * over them. Reported per round: frames/s until every frame completed, frames per protocol, and
 * p50/p99 of the request for work per protocol (request_job; POST /api/worker/task). The ratio
 * of the two rounds says what a second gateway process buys on this machine.
 * Each kind of client runs in its own worker thread; the gateways are separate processes.
 */

const SHEEPIT = Number(process.env.BENCH_MIXED_SHEEPIT ?? 50);
const FLAMENCO = Number(process.env.BENCH_MIXED_FLAMENCO ?? 20);
const FRAMES = Number(process.env.BENCH_MIXED_FRAMES ?? 20_000);
const PASSWORD = "mixed-bench-password";
const mainJs = fileURLToPath(new URL("../src/app/main.js", import.meta.url));

interface Gateway {
  url: string;
  child: ChildProcess;
}

async function startGateway(bf: BenchFarm, dataDir: string): Promise<Gateway> {
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [mainJs], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_URL: url,
      REDIS_PREFIX: bf.prefix,
      STORAGE_ROOT: bf.storageRoot,
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      TASK_TIMEOUT: "30m",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return { url, child };
    } catch {
      // not listening yet
    }
    if (Date.now() > until || child.exitCode !== null) throw new Error(`gateway on ${url} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopGateway(g: Gateway): Promise<void> {
  if (g.child.exitCode !== null) return;
  const exited = new Promise((resolve) => g.child.once("exit", resolve));
  g.child.kill("SIGTERM");
  await exited;
}

function clientThread(job: MixedClientJob) {
  const thread = new Worker(new URL("./mixed-clients.js", import.meta.url), { workerData: job });
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const result = new Promise<MixedClientResult>((resolve, reject) => {
    thread.on("error", reject);
    thread.on("message", (msg: { ready?: boolean; result?: MixedClientResult; error?: string }) => {
      if (msg.error) reject(new Error(msg.error));
      else if (msg.ready) onReady();
      else if (msg.result) resolve(msg.result);
    });
  });
  return {
    ready,
    result,
    send: () => thread.postMessage("next"),
    terminate: () => thread.terminate(),
  };
}

interface RoundResult {
  gateways: number;
  seconds: number;
  sheepit: MixedClientResult;
  flamenco: MixedClientResult;
}

async function round(gateways: number): Promise<RoundResult> {
  const bf = createBenchFarm(`mixed${gateways}`);
  const dataDir = path.join(bf.storageRoot, ".data");
  const started: Gateway[] = [];
  try {
    // What SheepIt clients need, written where every gateway process reads it (shared DATA_DIR).
    await prepareSheepit(bf, "mixed", PASSWORD);
    for (let g = 0; g < gateways; g++) started.push(await startGateway(bf, dataDir));
    const urls = started.map((g) => g.url);

    const scene = path.join(bf.storageRoot, "mixed", "scene.blend");
    fs.mkdirSync(path.dirname(scene), { recursive: true });
    fs.writeFileSync(scene, "BLENDER".repeat(1000));
    const res = await fetch(`${urls[0]}/api/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "simple-blender-render",
        name: "mixed bench",
        priority: 50,
        settings: {
          filepath: scene,
          render_output: path.join(bf.storageRoot, "mixed", "out", "######"),
          frames: `1-${FRAMES}`,
          chunk_size: 4,
          images_or_video: "images",
          format: "PNG",
          output_file_extension: ".png",
        },
      }),
    });
    if (res.status !== 200) throw new Error(`submission failed: ${res.status} ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };

    const sheep = clientThread({
      kind: "sheepit",
      urls,
      count: SHEEPIT,
      login: "mixed",
      password: PASSWORD,
      workDir: path.join(bf.storageRoot, ".clients"),
    });
    const flam = clientThread({ kind: "flamenco", urls, count: FLAMENCO });
    try {
      await Promise.all([sheep.ready, flam.ready]);
      const t0 = performance.now();
      sheep.send();
      flam.send();
      const deadline = Date.now() + 30 * 60_000;
      for (;;) {
        const job = await bf.farm.jobs.get(id);
        if (job.completedFrames >= FRAMES) break;
        if (Date.now() > deadline) throw new Error(`only ${job.completedFrames} of ${FRAMES} frames after 30 min`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const seconds = (performance.now() - t0) / 1000;
      sheep.send();
      flam.send();
      const [sheepit, flamenco] = await Promise.all([sheep.result, flam.result]);
      return { gateways, seconds, sheepit, flamenco };
    } finally {
      await Promise.all([sheep.terminate(), flam.terminate()]);
    }
  } finally {
    await Promise.all(started.map(stopGateway));
    await bf.close();
  }
}

export async function run(): Promise<void> {
  process.stdout.write(
    `${SHEEPIT} SheepIt clients + ${FLAMENCO} Flamenco workers, instant renders, one job of ${FRAMES} frames (chunk 4)\n`,
  );
  const rounds: RoundResult[] = [];
  for (const g of [1, 2]) rounds.push(await round(g));
  const q = (xs: number[], p: number) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      p,
    );
  printTable(
    "mixed farm",
    [
      "gateways",
      "frames/s",
      "SheepIt frames",
      "Flamenco frames",
      "request_job p50 ms",
      "p99 ms",
      "worker/task p50 ms",
      "p99 ms",
    ],
    rounds.map((r) => [
      r.gateways,
      FRAMES / r.seconds,
      r.sheepit.frames,
      r.flamenco.frames,
      q(r.sheepit.latencies, 50),
      q(r.sheepit.latencies, 99),
      q(r.flamenco.latencies, 50),
      q(r.flamenco.latencies, 99),
    ]),
  );
  const [one, two] = rounds;
  if (one && two) {
    process.stdout.write(
      `two gateway processes vs one: frames/s ×${(one.seconds / two.seconds).toFixed(2)}, ` +
        `request_job p99 ×${(q(two.sheepit.latencies, 99) / q(one.sheepit.latencies, 99)).toFixed(2)}, ` +
        `worker/task p99 ×${(q(two.flamenco.latencies, 99) / q(one.flamenco.latencies, 99)).toFixed(2)}\n`,
    );
  }
}
