import { randomBytes, randomUUID } from "node:crypto";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createHttpApp } from "../src/app/server.js";
import type { JobDefinition } from "../src/domain/jobs/job.js";
import { createBenchFarm, listen, percentile, printTable } from "./support.js";

/**
 * Flamenco workers' secrets under attack: BENCH_FLOOD_CLIENTS (16) clients loop on
 * `GET /api/worker/state` with wrong secrets (random worker UUIDs, one address), while a probe
 * measures `GET /api/version` and a legitimate worker (another address, its credentials verified
 * once and then remembered) asks for tasks and completes them. The same probes run first with no
 * flood, for BENCH_FLOOD_SECONDS (6) each, in the same run: the ratios are flood / no flood.
 * The gateway runs on the main thread (TRUSTED_PROXIES=127.0.0.1, each client's address from
 * X-Forwarded-For); the flood runs in a worker thread, so its own CPU is not the gateway's.
 */

const FLOOD_CLIENTS = Number(process.env.BENCH_FLOOD_CLIENTS ?? 16);
const SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 6);
const ATTACKER = "10.66.0.1";
const WORKER = "10.66.0.2";

interface FloodJob {
  url: string;
  clients: number;
}
interface FloodResult {
  requests: number;
  statuses: Record<string, number>;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

/** The flood, in a worker thread: loops until told to stop, then posts what it got. */
async function flood(job: FloodJob): Promise<void> {
  let stop = false;
  parentPort?.on("message", () => {
    stop = true;
  });
  const statuses: Record<string, number> = {};
  let requests = 0;
  const loop = async () => {
    while (!stop) {
      try {
        const res = await fetch(`${job.url}/api/worker/state`, {
          headers: { authorization: basic(randomUUID(), randomBytes(32).toString("hex")), "x-forwarded-for": ATTACKER },
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      } catch {
        statuses.error = (statuses.error ?? 0) + 1;
      }
      requests++;
    }
  };
  parentPort?.postMessage({ started: true });
  await Promise.all(Array.from({ length: job.clients }, loop));
  parentPort?.postMessage({ result: { requests, statuses } satisfies FloodResult });
}

if (!isMainThread && (workerData as { floodBench?: FloodJob } | null)?.floodBench) {
  void flood((workerData as { floodBench: FloodJob }).floodBench);
}

function startFlood(job: FloodJob): { started: Promise<void>; stop(): Promise<FloodResult> } {
  const thread = new Worker(new URL(import.meta.url), { workerData: { floodBench: job } });
  let resolveStarted: () => void = () => {};
  const started = new Promise<void>((r) => {
    resolveStarted = r;
  });
  const result = new Promise<FloodResult>((resolve, reject) => {
    thread.on("error", reject);
    thread.on("message", (msg: { started?: boolean; result?: FloodResult }) => {
      if (msg.started) resolveStarted();
      if (msg.result) resolve(msg.result);
    });
  });
  return {
    started,
    async stop() {
      thread.postMessage("stop");
      try {
        return await result;
      } finally {
        await thread.terminate();
      }
    },
  };
}

function benchJob(storageRoot: string): JobDefinition {
  return {
    type: "simple-blender-render",
    name: "bench worker secret flood",
    priority: 50,
    settings: {
      blender_cmd: "{blender}",
      filepath: `${storageRoot}/bench/scene.blend`,
      render_output: `${storageRoot}/bench/frames/######`,
      frames: "1-2000", // the first batch goes in line with the answer: no background fill during the bench
      chunk_size: 1,
      format: "OPEN_EXR",
      output_file_extension: ".exr",
      images_or_video: "images",
    },
    metadata: {},
  };
}

interface Probe {
  version: number[];
  task: number[];
}

/** For `seconds`: `GET /api/version` in one loop, the worker's task request + completion in another. */
async function probe(url: string, auth: string, seconds: number): Promise<Probe> {
  const until = performance.now() + seconds * 1000;
  const out: Probe = { version: [], task: [] };
  const headers = { authorization: auth, "x-forwarded-for": WORKER };
  const versionLoop = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      const res = await fetch(`${url}/api/version`, { headers: { "x-forwarded-for": WORKER } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`/api/version answered ${res.status}`);
      out.version.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const taskLoop = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      const res = await fetch(`${url}/api/worker/task`, { method: "POST", headers });
      const text = await res.text();
      if (res.status === 204) return; // the job is drained
      if (res.status !== 200) throw new Error(`POST /api/worker/task answered ${res.status}: ${text}`);
      out.task.push(performance.now() - t0);
      const task = JSON.parse(text) as { uuid: string };
      const done = await fetch(`${url}/api/worker/task/${task.uuid}`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ taskStatus: "completed", activity: "done", log: "rendered\n" }),
      });
      await done.arrayBuffer();
      if (done.status !== 204) throw new Error(`task update answered ${done.status}`);
    }
  };
  await Promise.all([versionLoop(), taskLoop()]);
  return out;
}

export async function run(): Promise<void> {
  const bf = createBenchFarm("worker-flood", { TRUSTED_PROXIES: "127.0.0.1" });
  const server = await listen(createHttpApp(bf.farm).fetch);
  try {
    await bf.farm.jobs.submit(benchJob(bf.storageRoot));
    const secret = randomBytes(32).toString("hex");
    const reg = await fetch(`${server.url}/api/worker/register-worker`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": WORKER },
      body: JSON.stringify({ secret, platform: "linux", supported_task_types: ["blender"], nickname: "legit" }),
    });
    if (reg.status !== 200) throw new Error(`register-worker answered ${reg.status}: ${await reg.text()}`);
    const { uuid } = (await reg.json()) as { uuid: string };
    const auth = basic(uuid, secret);
    const signOn = await fetch(`${server.url}/api/worker/sign-on`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json", "x-forwarded-for": WORKER },
      body: JSON.stringify({ nickname: "legit", supported_task_types: ["blender"], software_version: "3.0" }),
    });
    await signOn.arrayBuffer();
    const changed = await fetch(`${server.url}/api/worker/state-changed`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json", "x-forwarded-for": WORKER },
      body: JSON.stringify({ status: "awake" }),
    });
    if (changed.status !== 204) throw new Error(`state-changed answered ${changed.status}`);

    await probe(server.url, auth, 1); // warm-up
    const calm = await probe(server.url, auth, SECONDS);
    const f = startFlood({ url: server.url, clients: FLOOD_CLIENTS });
    await f.started;
    const loaded = await probe(server.url, auth, SECONDS);
    const flooded = await f.stop();

    const stats = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN };
    };
    const rows: Array<Array<string | number>> = [];
    for (const [what, key] of [
      ["GET /api/version", "version"],
      ["POST /api/worker/task (legit worker)", "task"],
    ] as const) {
      const a = stats(calm[key]);
      const b = stats(loaded[key]);
      rows.push([what, "no flood", a.n, a.p50, a.p99, a.max, 1]);
      rows.push([what, `${FLOOD_CLIENTS} flooding`, b.n, b.p50, b.p99, b.max, b.p50 / a.p50]);
    }
    printTable(
      `Latency (ms) with ${FLOOD_CLIENTS} clients looping on wrong worker secrets from one address (ratio: median against no flood)`,
      ["what", "during", "requests", "p50 ms", "p99 ms", "max ms", "ratio p50"],
      rows,
    );
    const statuses = Object.entries(flooded.statuses)
      .map(([s, n]) => `${s}: ${n}`)
      .join(", ");
    process.stdout.write(
      `flood: ${flooded.requests} requests in ${SECONDS} s (${Math.round(flooded.requests / SECONDS)}/s), answers ${statuses}\n`,
    );
  } finally {
    await server.close();
    await bf.close();
  }
}
