import { fork } from "node:child_process";
import type { AddressInfo, Socket } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { connectRedis } from "../adapters/redis/connection.js";
import { loadConfig } from "../src/app/config.js";
import { createFarm } from "../src/app/farm.js";
import { batchedStdout, createLogger } from "../src/app/logger.js";
import { createHttpApp } from "../src/app/server.js";
import { startSweeper } from "../src/app/sweeper.js";

/**
 * A gateway in a process of its own, composed as src/app/main.ts composes it (one Redis
 * connection, createFarm, createHttpApp on @hono/node-server, the periodic sweep), for benches that
 * measure what one gateway process costs: its Redis connections, its CPU per request, its memory.
 * Started with `startGatewayProcess(env)`; config from the env it is given (REDIS_URL, REDIS_PREFIX,
 * STORAGE_ROOT, ...). It answers `stats` messages with its CPU time, per-route CPU, RSS and the
 * local ports of its Redis sockets (to find its connections in CLIENT LIST).
 *
 * Per-route CPU is `process.cpuUsage()` around `app.fetch` of each request; it is exact only while
 * requests do not overlap (the benches that read it send one request at a time).
 */

export interface RouteCpu {
  requests: number;
  cpuUs: number;
}

export interface GatewayStats {
  cpuUs: number;
  rssMb: number;
  /** Local ports of this process's open sockets to Redis. */
  redisPorts: number[];
  routes: Record<string, RouteCpu>;
}

export interface GatewayProcess {
  url: string;
  /**
   * A bare Hono app in the same process (`GET /bare`: a fixed JSON answer, no middleware), served
   * the same way: the HTTP stack's own cost, a baseline that does not change with the gateway's code.
   */
  bareUrl: string;
  pid: number;
  stats(): Promise<GatewayStats>;
  /** Forgets the per-route figures. */
  resetRoutes(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts bench/gateway-process.js as a child process; `execArgv` e.g. `--cpu-prof`. */
export async function startGatewayProcess(
  env: Record<string, string>,
  execArgv: string[] = [],
): Promise<GatewayProcess> {
  const child = fork(new URL("./gateway-process.js", import.meta.url), ["--child"], {
    env: { ...process.env, ...env, BENCH_GATEWAY_CHILD: "1" },
    execArgv,
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  let seq = 0;
  const waiting = new Map<number, (v: unknown) => void>();
  const { url, bareUrl } = await new Promise<{ url: string; bareUrl: string }>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bench gateway exited with ${code}`)));
    child.on("message", (msg: { url?: string; bareUrl?: string; id?: number; value?: unknown }) => {
      if (msg.url && msg.bareUrl) resolve({ url: msg.url, bareUrl: msg.bareUrl });
      if (msg.id !== undefined) {
        waiting.get(msg.id)?.(msg.value);
        waiting.delete(msg.id);
      }
    });
  });
  const ask = <T>(what: string) =>
    new Promise<T>((resolve) => {
      const id = ++seq;
      waiting.set(id, resolve as (v: unknown) => void);
      child.send({ id, what });
    });
  return {
    url,
    bareUrl,
    pid: child.pid as number,
    stats: () => ask<GatewayStats>("stats"),
    resetRoutes: () => ask<void>("reset"),
    async stop() {
      child.removeAllListeners("exit");
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.send({ id: 0, what: "stop" });
      await exited;
    },
  };
}

/** `/api/worker/task/<uuid>` → `/api/worker/task/:id`, so a route's requests add up. */
function routeKey(req: Request): string {
  const p = new URL(req.url).pathname.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, ":id");
  return `${req.method} ${p}`;
}

async function child(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.LOG_LEVEL, batchedStdout());
  const redis = connectRedis(config.REDIS_URL as string, "bellwether-bench-gateway");
  const farm = createFarm(config, redis, logger);
  const app = createHttpApp(farm);
  const bare = new Hono();
  bare.get("/bare", (c) => c.json({ name: "Bellwether", version: "bare" }));
  const routes = new Map<string, RouteCpu>();
  const timed =
    (fetchFn: (req: Request, env: never) => Response | Promise<Response>, label: string) =>
    async (req: Request, env: unknown) => {
      const c0 = process.cpuUsage();
      const res = await fetchFn(req, env as never);
      const c = process.cpuUsage(c0);
      const key = `${label}${routeKey(req)}`;
      const r = routes.get(key) ?? { requests: 0, cpuUs: 0 };
      r.requests++;
      r.cpuUs += c.user + c.system;
      routes.set(key, r);
      return res;
    };
  const listen = (fetchFn: (req: Request, env: unknown) => Promise<Response>) =>
    new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: fetchFn, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
  const server = await listen(timed(app.fetch, ""));
  const bareServer = await listen(timed(bare.fetch, "bare Hono: "));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}`;
  (farm.config as { publicUrl: string }).publicUrl = url;
  const stopSweeper = startSweeper(() => farm.sweep(), config.SWEEP_INTERVAL);
  const redisPort = Number(new URL(config.REDIS_URL as string).port || 6379);

  process.on("message", async (msg: { id: number; what: string }) => {
    if (msg.what === "stats") {
      const c = process.cpuUsage();
      const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
      const redisPorts = handles
        .filter((h): h is Socket => typeof (h as Socket).remotePort === "number")
        .filter((s) => s.remotePort === redisPort && typeof s.localPort === "number")
        .map((s) => s.localPort as number);
      const value: GatewayStats = {
        cpuUs: c.user + c.system,
        rssMb: process.memoryUsage().rss / 2 ** 20,
        redisPorts,
        routes: Object.fromEntries(routes),
      };
      process.send?.({ id: msg.id, value });
    } else if (msg.what === "reset") {
      routes.clear();
      process.send?.({ id: msg.id, value: null });
    } else if (msg.what === "stop") {
      stopSweeper();
      for (const s of [server, bareServer]) {
        (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await farm.close();
      await redis.quit().catch(() => redis.disconnect());
      process.exit(0);
    }
  });
  process.send?.({ url, bareUrl });
}

if (process.env.BENCH_GATEWAY_CHILD === "1" && process.argv.includes("--child")) {
  child().catch((err) => {
    process.stderr.write(`bench gateway failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
