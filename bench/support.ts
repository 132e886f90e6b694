import { randomBytes } from "node:crypto";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { serve } from "@hono/node-server";
import type { Redis } from "ioredis";
import { connectRedis } from "../adapters/redis/connection.js";
import { loadConfig } from "../src/app/config.js";
import { createFarm, type Farm } from "../src/app/farm.js";
import { createLogger } from "../src/app/logger.js";
import { renderClientsOf } from "../src/app/render-clients.js";
import { buildRendererZip } from "../test/simulators/fake-renderer.js";

/**
 * What bench modules share: the Redis bench/run.ts chose (REDIS_URL), farms under a key prefix of
 * their own, CPU and memory meters, and a table printer. A bench module exports
 * `async function run(): Promise<void>` and prints its own tables.
 */

/** The Redis URL bench/run.ts set up (REDIS_URL, or the local redis-server it started). */
export function benchRedisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error("REDIS_URL is not set: run benches through bench/run.ts (npm run bench)");
  return url;
}

export interface BenchFarm {
  farm: Farm;
  redis: Redis;
  prefix: string;
  storageRoot: string;
  /** Closes the farm and removes its keys and storage. */
  close(): Promise<void>;
}

/** A farm under a fresh prefix on the bench Redis, with a temporary storage root; logs silent. */
export function createBenchFarm(label: string, env: Record<string, string> = {}): BenchFarm {
  const prefix = `bench-${label}-${randomBytes(3).toString("hex")}`;
  const storageRoot = fs.mkdtempSync(path.join(os.tmpdir(), `bw-bench-${label}-`));
  const config = loadConfig({
    REDIS_URL: benchRedisUrl(),
    REDIS_PREFIX: prefix,
    STORAGE_ROOT: storageRoot,
    DATA_DIR: path.join(storageRoot, ".data"),
    LOG_LEVEL: "silent",
    TASK_TIMEOUT: "30m",
    ...env,
  });
  const redis = connectRedis(config.REDIS_URL as string, `bellwether-bench-${label}`);
  const farm = createFarm(config, redis, createLogger(config.LOG_LEVEL));
  return {
    farm,
    redis,
    prefix,
    storageRoot,
    async close() {
      await farm.close();
      await deleteKeys(redis, prefix);
      await redis.quit().catch(() => redis.disconnect());
      fs.rmSync(storageRoot, { recursive: true, force: true });
    },
  };
}

/** Removes every key of a prefix (`{prefix}...`, SCAN + UNLINK). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  if (!prefix) throw new Error("deleteKeys: empty prefix");
  let cursor = "0";
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `*{${prefix}}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) removed += await redis.unlink(...keys);
  } while (cursor !== "0");
  return removed;
}

/** Redis's own CPU time so far (user + system), in ms. */
export async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const read = (k: string) => Number(new RegExp(`^${k}:([0-9.]+)`, "m").exec(info)?.[1] ?? 0);
  return (read("used_cpu_user") + read("used_cpu_sys")) * 1000;
}

export interface Measured<T> {
  value: T;
  wallMs: number;
  /** This process's CPU time (user + system). */
  nodeCpuMs: number;
  /** Redis's CPU time (all its clients: keep the bench Redis otherwise idle). */
  redisCpuMs: number;
}

/** Runs `fn` and measures wall time, this process's CPU and Redis's CPU. */
export async function measure<T>(redis: Redis, fn: () => Promise<T>): Promise<Measured<T>> {
  const r0 = await redisCpuMs(redis);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const redisCpu = (await redisCpuMs(redis)) - r0;
  return { value, wallMs, nodeCpuMs: (c.user + c.system) / 1000, redisCpuMs: redisCpu };
}

let gcFn: (() => void) | undefined | null;
/** Runs a full garbage collection when the runtime lets us (it does, via --expose-gc set late). */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc");
      gcFn = vm.runInNewContext("gc") as () => void;
    } catch {
      gcFn = null;
    }
  }
  gcFn?.();
}

export interface MemoryPeak {
  rssBeforeMb: number;
  rssPeakMb: number;
  heapBeforeMb: number;
  heapPeakMb: number;
}

/** Samples RSS and heap every `everyMs` while `fn` runs; the "before" figures follow a full GC. */
export async function withMemoryPeak<T>(fn: () => Promise<T>, everyMs = 10): Promise<{ value: T; memory: MemoryPeak }> {
  collectGarbage();
  const before = process.memoryUsage();
  let rssPeak = before.rss;
  let heapPeak = before.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    if (m.rss > rssPeak) rssPeak = m.rss;
    if (m.heapUsed > heapPeak) heapPeak = m.heapUsed;
  };
  const timer = setInterval(sample, everyMs);
  try {
    const value = await fn();
    sample();
    const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
    return {
      value,
      memory: {
        rssBeforeMb: mb(before.rss),
        rssPeakMb: mb(rssPeak),
        heapBeforeMb: mb(before.heapUsed),
        heapPeakMb: mb(heapPeak),
      },
    };
  } finally {
    clearInterval(timer);
  }
}

/** Prints a titled table with right-aligned numeric columns. */
export function printTable(title: string, headers: string[], rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : c)));
  const widths = headers.map((h, k) => Math.max(h.length, ...cells.map((r) => (r[k] ?? "").length)));
  const numeric = headers.map((_, k) => rows.every((r) => typeof r[k] === "number" || r[k] === "" || r[k] === "-"));
  const line = (r: string[]) =>
    r.map((c, k) => (numeric[k] && k > 0 ? c.padStart(widths[k] ?? 0) : c.padEnd(widths[k] ?? 0))).join("  ");
  const out = ["", title, line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
  process.stdout.write(`${out.join("\n")}\n`);
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) || Math.abs(n) >= 100) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** The `p`-th percentile of ascending `sorted` values (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Serves `fetchFn` with @hono/node-server on a free loopback port (as the gateway serves). */
export async function listen(
  fetchFn: (req: Request) => Response | Promise<Response>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: fetchFn, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * What SheepIt clients need on a bench farm: the fake renderer (linux 64bit, default) and a user
 * who may render. Answers the scratch folder (outside anything a job archives).
 */
export async function prepareSheepit(bf: BenchFarm, login: string, password: string): Promise<string> {
  const rc = renderClientsOf(bf.farm);
  const scratch = path.join(bf.storageRoot, ".bench");
  await rc.renderers.add(await buildRendererZip(scratch), {
    name: "bench",
    os: "linux",
    bits: "64bit",
    isDefault: true,
  });
  await rc.accounts.add(login, password);
  return scratch;
}
