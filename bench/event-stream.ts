import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { benchRedisUrl, createBenchFarm, percentile, printTable } from "./support.js";

/**
 * The dashboard's event stream (`GET /api/dashboard/events`) per connected browser. A real gateway
 * (`node dist/src/app/main.js`, its own process, so its RSS and CPU are its own) on the bench
 * Redis; this process opens N = 1, 100, 1,000 streams to it and drives a steady stream of farm
 * events through the domain on the same farm (a claim and a completion of one frame, every
 * STEP_MS; each publishes a `job` and a `client` event, four events a step). Every step claims
 * as a session of its own, so the `client` event naming that session marks the step: its delivery
 * latency is from the claim's return (the publish is sent then) to its arrival on each stream.
 * Figures per N: gateway RSS added per stream, gateway CPU while the events flow, latency p50/p99,
 * and each as a ratio to N = 1 in the same run.
 */

const COUNTS = (process.env.BENCH_STREAMS ?? "1,100,1000").split(",").map(Number);
const STEP_MS = 100;
const STEPS = 100;
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src/app/main.js");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** The process's resident set (MB) and CPU time so far (ms), from /proc. */
function procStats(pid: number): { rssMb: number; cpuMs: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return { rssMb: rssKb / 1024, cpuMs: (ticks * 1000) / 100 };
}

async function startGateway(prefix: string, storageRoot: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      REDIS_URL: benchRedisUrl(),
      REDIS_PREFIX: prefix,
      PORT: String(port),
      HOST: "127.0.0.1",
      STORAGE_ROOT: storageRoot,
      DATA_DIR: path.join(storageRoot, ".data-gw"),
      LOG_LEVEL: "warn",
      SWEEP_INTERVAL: "15s",
      TASK_TIMEOUT: "30m",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url, child };
    if (Date.now() > end || child.exitCode !== null) throw new Error("the gateway did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Stream {
  close(): void;
}

/** One SSE connection; `onClient(sessionId, at)` for each `client` event; resolves once `hello` arrived. */
function openStream(
  url: string,
  agent: http.Agent,
  onClient: (sessionId: string, at: number) => void,
): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/api/dashboard/events`, { agent, headers: { accept: "text/event-stream" } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`event stream answered ${res.statusCode}`));
      res.setEncoding("utf8");
      let buf = "";
      let hello = false;
      res.on("data", (chunk: string) => {
        const at = performance.now();
        buf += chunk;
        let end = buf.indexOf("\n\n");
        while (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          end = buf.indexOf("\n\n");
          if (!hello && block.includes("event: hello")) {
            hello = true;
            resolve({ close: () => req.destroy() });
          } else if (block.startsWith("event: client")) {
            const m = /"sessionId":"([^"]+)"/.exec(block);
            if (m?.[1]) onClient(m[1], at);
          }
        }
      });
    });
    req.on("error", (err) => reject(err));
  });
}

interface Row {
  n: number;
  rssPerStreamKb: number;
  rssMb: number;
  cpuMsPerS: number;
  p50: number;
  p99: number;
  delivered: number;
  expected: number;
  /** Streams that got every step's event. */
  streamsComplete: number;
  lastMs: number;
}

async function round(n: number): Promise<Row> {
  const bf = createBenchFarm(`events-${n}`);
  const gw = await startGateway(bf.prefix, bf.storageRoot);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const streams: Stream[] = [];
  const marks = new Map<string, number>();
  const latencies: number[] = [];
  const seen = new Set<string>();
  try {
    await bf.farm.jobs.submit({
      type: "simple-blender-render",
      name: "events bench",
      priority: 50,
      settings: {
        blender_cmd: "{blender}",
        filepath: `${bf.storageRoot}/bench/scene.blend`,
        render_output: `${bf.storageRoot}/bench/frames/######`,
        frames: `1-${STEPS * 3}`,
        chunk_size: 1,
        images_or_video: "images",
        format: "PNG",
        output_file_extension: ".png",
      },
      metadata: {},
    });
    // The gateway warmed up (a few requests), then its resting figures.
    for (let i = 0; i < 20; i++) await fetch(`${gw.url}/api/dashboard/summary`).then((r) => r.arrayBuffer());
    await new Promise((r) => setTimeout(r, 1000));
    const idle = procStats(gw.child.pid as number);

    const onClient = (k: number) => (sessionId: string, at: number) => {
      const t0 = marks.get(sessionId);
      const key = `${k}/${sessionId}`;
      if (t0 === undefined || seen.has(key)) return;
      seen.add(key);
      latencies.push(at - t0);
    };
    for (let k = 0; k < n; k += 50) {
      const batch = Array.from({ length: Math.min(50, n - k) }, (_, j) => openStream(gw.url, agent, onClient(k + j)));
      streams.push(...(await Promise.all(batch)));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const connected = procStats(gw.child.pid as number);

    // The steady stream: one step every STEP_MS, paced from the start (late steps do not bunch up).
    const started = performance.now();
    let claimsMissed = 0;
    for (let s = 0; s < STEPS; s++) {
      const wait = started + s * STEP_MS - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const sessionId = `ev-${n}-${s}`;
      const got = await bf.farm.work.claim({
        caps: { sessionId, taskTypes: ["blender"], device: "any" },
        maxFrames: 1,
        leaseMs: 60_000,
      });
      marks.set(sessionId, performance.now());
      if (got) await bf.farm.work.complete(got.lease.id, sessionId);
      else claimsMissed++;
    }
    // Late deliveries (at most 30 s more) are still counted.
    const end = Date.now() + 30_000;
    while (latencies.length < STEPS * n && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const seconds = (performance.now() - started) / 1000;
    if (claimsMissed > 0) process.stdout.write(`(N=${n}: ${claimsMissed} steps found no frame to claim)\n`);
    const flowed = procStats(gw.child.pid as number);
    const perStream = new Map<string, number>();
    for (const key of seen) {
      const k = key.slice(0, key.indexOf("/"));
      perStream.set(k, (perStream.get(k) ?? 0) + 1);
    }
    latencies.sort((a, b) => a - b);
    return {
      n,
      rssMb: connected.rssMb,
      rssPerStreamKb: ((connected.rssMb - idle.rssMb) * 1024) / n,
      cpuMsPerS: (flowed.cpuMs - connected.cpuMs) / seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      delivered: latencies.length,
      expected: STEPS * n,
      streamsComplete: [...perStream.values()].filter((v) => v === STEPS).length,
      lastMs: (latencies.at(-1) ?? 0) as number,
    };
  } finally {
    for (const s of streams) s.close();
    agent.destroy();
    gw.child.kill("SIGTERM");
    await new Promise((r) => gw.child.once("exit", r));
    await bf.close();
  }
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  for (const n of COUNTS) rows.push(await round(n));
  const base = rows[0] as Row;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
  printTable(
    `event stream: N browsers on one gateway, ${(4 * 1000) / STEP_MS} events/s for ${(STEPS * STEP_MS) / 1000} s (gateway process figures; ratios to N=1)`,
    [
      "N",
      "RSS MB",
      "RSS/stream KB",
      "CPU ms/s",
      "CPU x N=1",
      "CPU ms/s per stream",
      "p50 ms",
      "p99 ms",
      "p50 x N=1",
      "p99 x N=1",
      "max ms",
      "delivered",
      "streams with all",
    ],
    rows.map((r) => [
      r.n,
      r.rssMb,
      r.n === 1 ? "-" : r.rssPerStreamKb,
      r.cpuMsPerS,
      ratio(r.cpuMsPerS, base.cpuMsPerS),
      r.cpuMsPerS / r.n,
      r.p50,
      r.p99,
      ratio(r.p50, base.p50),
      ratio(r.p99, base.p99),
      r.lastMs,
      `${r.delivered}/${r.expected}`,
      `${r.streamsComplete}/${r.n}`,
    ]),
  );
}
