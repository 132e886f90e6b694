import { parentPort, workerData } from "node:worker_threads";
import { testExr } from "../test/simulators/fake-renderer.js";
import { SheepItClient } from "../test/simulators/sheepit-client.js";

/**
 * The client side of bench/sheepit-clients.ts, in a worker thread of its own (real clients are
 * other machines):
 * - `sims`: `clients` simulated SheepIt clients (test/simulators/sheepit-client.ts) with instant
 *   renders, each asking, "rendering" and uploading until the farm has no frame left for it;
 * - `bare`: `clients` loops posting to `url` until `total` requests were made.
 * Posts `{ready}` once logged in, waits for "go", then posts `{result}`.
 */

export interface ClientJob {
  mode: "sims" | "bare";
  url: string;
  clients: number;
  login?: string;
  password?: string;
  workDir?: string;
  total?: number;
}

export interface ClientResult {
  requests: number;
  frames: number;
  /** Latencies (ms) of request_job answers that gave a frame. */
  latencies: number[];
}

const job = workerData as ClientJob;
const port = parentPort;
if (!port) throw new Error("bench/sheepit-client-thread.ts runs as a worker thread");
const go = () => new Promise<void>((resolve) => port.once("message", () => resolve()));

async function sims(): Promise<ClientResult> {
  const latencies: number[] = [];
  let requests = 0;
  const image = testExr();
  const all = Array.from({ length: job.clients }, (_, k) => {
    let last = 0;
    const c = new SheepItClient({
      url: job.url,
      login: job.login as string,
      password: job.password as string,
      workDir: `${job.workDir}/c${k}`,
      hostname: `bench-${k}`,
      hwid: `bench-${k}`,
      newer: false,
      instantImage: image,
      onExchange: (what, ms) => {
        requests++;
        if (what === "request_job") last = ms;
      },
    });
    return { c, lastMs: () => last };
  });
  for (const { c } of all) if ((await c.login()) !== 0) throw new Error("login failed");
  port?.postMessage({ ready: true });
  await go();
  requests = 0;
  let frames = 0;
  await Promise.all(
    all.map(async ({ c, lastMs }) => {
      for (let idle = 0; idle < 2; ) {
        const r = await c.requestJob();
        if (r.status === 0 && r.job) {
          latencies.push(lastMs());
          idle = 0;
          const status = await c.upload(await c.render(r.job));
          if (status !== 0) throw new Error(`upload answered ${status} (HTTP ${c.uploads.at(-1)?.http})`);
          frames++;
        } else if (r.status === 200) {
          idle++;
          await new Promise((res) => setTimeout(res, 20));
        } else throw new Error(`request_job answered ${r.status}`);
      }
    }),
  );
  return { requests, frames, latencies };
}

async function bare(): Promise<ClientResult> {
  port?.postMessage({ ready: true });
  await go();
  const latencies: number[] = [];
  const total = job.total ?? 1000;
  let sent = 0;
  await Promise.all(
    Array.from({ length: job.clients }, async () => {
      while (sent < total) {
        sent++;
        const t0 = performance.now();
        const res = await fetch(`${job.url}/server/request_job.php?computemethod=1`, {
          method: "POST",
          body: "<cache/>",
        });
        await res.text();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { requests: sent, frames: 0, latencies };
}

(job.mode === "sims" ? sims() : bare()).then(
  (result) => port.postMessage({ result }),
  (err) => port.postMessage({ error: String((err as Error).stack ?? err) }),
);
