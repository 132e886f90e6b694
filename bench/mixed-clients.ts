import { parentPort, workerData } from "node:worker_threads";
import { testPng } from "../test/simulators/fake-renderer.js";
import { FlamencoWorkerSim } from "../test/simulators/flamenco-worker.js";
import { SheepItClient } from "../test/simulators/sheepit-client.js";

/**
 * The client side of bench/mixed.ts, in a worker thread of its own (real clients are other
 * machines): `count` simulated clients of one `kind` with instant renders, spread over `urls`,
 * working until the parent says "stop". Posts `{ready}` once logged in / registered, waits for
 * "go", then posts `{result}` after "stop".
 */

export interface MixedClientJob {
  kind: "sheepit" | "flamenco";
  urls: string[];
  count: number;
  login?: string;
  password?: string;
  workDir?: string;
}

export interface MixedClientResult {
  /** Frames this kind of client delivered (SheepIt uploads accepted; Flamenco chunk frames completed). */
  frames: number;
  /** Latency (ms) of each request for work: request_job, or POST /api/worker/task. */
  latencies: number[];
  requests: number;
}

const job = workerData as MixedClientJob;
const port = parentPort;
if (!port) throw new Error("bench/mixed-clients.ts runs as a worker thread");
const next = () => new Promise<void>((resolve) => port.once("message", () => resolve()));

async function sheepit(): Promise<MixedClientResult> {
  const image = await testPng();
  const latencies: number[] = [];
  let requests = 0;
  let stopped = false;
  const clients = Array.from(
    { length: job.count },
    (_, k) =>
      new SheepItClient({
        url: job.urls[k % job.urls.length] as string,
        login: job.login as string,
        password: job.password as string,
        workDir: `${job.workDir}/s${k}`,
        hostname: `mixed-${k}`,
        hwid: `mixed-${k}`,
        newer: false,
        instantImage: image,
        onExchange: (what, ms) => {
          requests++;
          if (what === "request_job") latencies.push(ms);
        },
      }),
  );
  for (const c of clients) if ((await c.login()) !== 0) throw new Error("SheepIt login failed");
  port?.postMessage({ ready: true });
  await next();
  const loops = clients.map((c) => c.run({ maxRequests: Number.MAX_SAFE_INTEGER, idleMs: 25, done: () => stopped }));
  await next();
  stopped = true;
  await Promise.all(loops);
  const frames = clients.reduce((n, c) => n + c.uploads.filter((u) => u.status === 0).length, 0);
  return { frames, latencies, requests };
}

async function flamenco(): Promise<MixedClientResult> {
  const sims = Array.from(
    { length: job.count },
    (_, k) =>
      new FlamencoWorkerSim({
        url: job.urls[k % job.urls.length] as string,
        nickname: `mixed-${k}`,
        taskTypes: k === 0 ? ["blender", "ffmpeg"] : ["blender"],
        writeFiles: false,
        pollMinMs: 5,
        pollMaxMs: 50,
        retryMs: 100,
      }),
  );
  port?.postMessage({ ready: true });
  await next();
  await Promise.all(sims.map((s) => s.start()));
  await next();
  await Promise.all(sims.map((s) => s.stop()));
  const done = sims.flatMap((s) => s.tasks).filter((t) => t.outcome === "completed" && t.task.task_type === "blender");
  return {
    frames: done.reduce((n, t) => n + t.frames.length, 0),
    latencies: sims.flatMap((s) => s.taskRequestMs),
    requests: sims.reduce((n, s) => n + s.answers.length, 0),
  };
}

(job.kind === "sheepit" ? sheepit() : flamenco()).then(
  (result) => port.postMessage({ result }),
  (err) => port.postMessage({ error: String((err as Error).stack ?? err) }),
);
