import { parentPort, workerData } from "node:worker_threads";
import { FlamencoWorkerSim } from "../test/simulators/flamenco-worker.js";

/**
 * The client side of bench/flamenco-workers.ts, in a worker thread of its own so that clients and
 * gateway do not share one event loop (real workers are other machines):
 * - `sims`: `workers` simulated Flamenco workers spread over `urls`, until the parent says "stop";
 * - `bare`: `workers` loops posting to `urls[0]` until `total` requests were made.
 * Posts back `{requests, completed, latencies}`.
 */

export interface ClientJob {
  mode: "sims" | "bare";
  urls: string[];
  workers: number;
  total?: number;
}

export interface ClientResult {
  requests: number;
  completed: number;
  latencies: number[];
  /** Why tasks were abandoned (409 answers), if any. */
  abandoned: string[];
}

const job = workerData as ClientJob;
const port = parentPort;
if (!port) throw new Error("bench/flamenco-clients.ts runs as a worker thread");

async function sims(): Promise<ClientResult> {
  const all = Array.from(
    { length: job.workers },
    (_, k) =>
      new FlamencoWorkerSim({
        url: job.urls[k % job.urls.length] as string,
        nickname: `bench-${k}`,
        writeFiles: false,
        pollMinMs: 5,
        pollMaxMs: 50,
        retryMs: 100,
      }),
  );
  const stop = new Promise<void>((resolve) => port?.once("message", () => resolve()));
  await Promise.all(all.map((s) => s.start()));
  port?.postMessage({ started: true });
  await stop;
  await Promise.all(all.map((s) => s.stop()));
  return {
    requests: all.reduce((n, s) => n + s.answers.length, 0),
    completed: all.flatMap((s) => s.tasks).filter((t) => t.outcome === "completed").length,
    abandoned: all.flatMap((s) => s.tasks).flatMap((t) => (t.outcome === "abandoned" ? [t.reason ?? "?"] : [])),
    latencies: all.flatMap((s) => s.taskRequestMs),
  };
}

async function bare(): Promise<ClientResult> {
  const auth = `Basic ${Buffer.from("6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab:secret").toString("base64")}`;
  const latencies: number[] = [];
  const total = job.total ?? 1000;
  let sent = 0;
  await Promise.all(
    Array.from({ length: job.workers }, async () => {
      while (sent < total) {
        sent++;
        const t0 = performance.now();
        const res = await fetch(`${job.urls[0]}/api/worker/task`, { method: "POST", headers: { authorization: auth } });
        await res.text();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { requests: sent, completed: 0, latencies, abandoned: [] };
}

(job.mode === "sims" ? sims() : bare()).then(
  (result) => port.postMessage({ result }),
  (err) => port.postMessage({ error: String((err as Error).stack ?? err) }),
);
