import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { type LocalRedis, startLocalRedis } from "../src/app/local-redis.js";
import { createLogger } from "../src/app/logger.js";

/**
 * `npm run bench` (all benches) or `npm run bench -- <name> [<name>...]` (some of them).
 * Uses REDIS_URL when it is set, else starts a local redis-server in a temporary directory for
 * the run. Each bench module exports `async function run(): Promise<void>`; they run one after
 * the other, on an otherwise idle Redis. Add a bench with one line in `benches`.
 */
const benches: Array<[name: string, load: () => Promise<{ run(): Promise<void> }>]> = [
  ["scheduler", () => import("./scheduler.js")],
  ["sheepit-clients", () => import("./sheepit-clients.js")],
  ["flamenco-workers", () => import("./flamenco-workers.js")],
  ["mixed", () => import("./mixed.js")],
  ["large-files", () => import("./large-files.js")],
  ["worker-secret-flood", () => import("./worker-secret-flood.js")],
  ["event-stream", () => import("./event-stream.js")],
  ["scale", () => import("./scale.js")],
  ["request-cpu", () => import("./request-cpu.js")],
  ["frame-memory", () => import("./frame-memory.js")],
  ["redis-calls", () => import("./redis-calls.js")],
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  const unknown = wanted.filter((w) => !benches.some(([name]) => name === w));
  if (unknown.length > 0) {
    process.stderr.write(`unknown bench ${unknown.join(", ")}; there are: ${benches.map(([n]) => n).join(", ")}\n`);
    process.exit(2);
  }
  const selected = wanted.length > 0 ? benches.filter(([name]) => wanted.includes(name)) : benches;

  let local: LocalRedis | undefined;
  let dataDir: string | undefined;
  if (!process.env.REDIS_URL) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bellwether-bench-redis-"));
    local = await startLocalRedis({ dataDir, logger: createLogger("warn") });
    process.env.REDIS_URL = local.url;
  }
  try {
    await printMachine(process.env.REDIS_URL as string, local !== undefined);
    for (const [name, load] of selected) {
      process.stdout.write(`\n=== ${name} ===\n`);
      const started = performance.now();
      await (await load()).run();
      process.stdout.write(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
    }
  } finally {
    await local?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function printMachine(url: string, local: boolean): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  await redis.connect();
  const info = await redis.info("server");
  redis.disconnect();
  const redisVersion = /^redis_version:(.+?)\r?$/m.exec(info)?.[1] ?? "?";
  const cpus = os.cpus();
  const lines = [
    `date        ${new Date().toISOString()}`,
    `machine     ${os.availableParallelism()} CPUs (${cpus[0]?.model.trim() ?? "?"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}`,
    `load        ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (1/5/15 min)`,
    `node        ${process.version}`,
    `redis       ${redisVersion} (${local ? "local redis-server started for this run, append-only" : "REDIS_URL"})`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
