#!/usr/bin/env node
import fs from "node:fs";
import os from "node:os";
import { serve } from "@hono/node-server";
import { advertisedUrls } from "./advertised-urls.js";
import { ConfigError, loadConfig } from "./config.js";
import { createFarm } from "./farm.js";
import { RedisServerMissingError } from "./local-redis.js";
import { batchedStdout, createLogger } from "./logger.js";
import { openRedis } from "./runtime.js";
import { createHttpApp } from "./server.js";
import { startSweeper } from "./sweeper.js";

/** `npm start`: the gateway, serving both protocols on one port. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`bellwether: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL, batchedStdout());
  fs.mkdirSync(config.dataDir, { recursive: true });

  let handle: Awaited<ReturnType<typeof openRedis>>;
  try {
    handle = await openRedis(config, logger);
  } catch (err) {
    if (err instanceof RedisServerMissingError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`bellwether: cannot reach Redis: ${(err as Error).message}\n`);
    process.exit(1);
  }

  const farm = createFarm(config, handle.redis, logger);
  const app = createHttpApp(farm);
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    logger.info(
      { port: info.port, host: config.HOST, publicUrl: config.publicUrl, storageRoot: config.storageRoot },
      "gateway listening",
    );
    const urls = advertisedUrls(config, os.networkInterfaces());
    logger.info({ sheepitUrls: urls.sheepit, flamencoUrls: urls.flamenco }, "give clients these URLs");
    if (urls.guessed) {
      logger.warn(
        { guessed: urls.flamenco },
        "PUBLIC_URL is unset: the URLs above are guesses; each SheepIt client's validation URLs are built from the Host (X-Forwarded-Host/-Proto from TRUSTED_PROXIES) of its own requests",
      );
    }
  });

  const stopSweeper = startSweeper(() => farm.sweep(), config.SWEEP_INTERVAL);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing requests in flight");
    stopSweeper();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, config.SHUTDOWN_GRACE).unref());
    await Promise.race([closed, grace]);
    await farm.close();
    await handle.close();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err) => {
  process.stderr.write(`bellwether: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
