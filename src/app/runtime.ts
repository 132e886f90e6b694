import fs from "node:fs";
import path from "node:path";
import type { Redis } from "ioredis";
import { connectRedis } from "../../adapters/redis/connection.js";
import type { Config } from "./config.js";
import { type LocalRedis, startLocalRedis } from "./local-redis.js";
import type { Logger } from "./logger.js";

/** Where a gateway that manages its own Redis writes that Redis's URL, for the CLI to find. */
export function localRedisUrlFile(config: Config): string {
  return path.join(config.dataDir, "redis", "url");
}

export interface RedisHandle {
  redis: Redis;
  url: string;
  /** Closes the connection and stops the local redis-server when this process started it. */
  close(): Promise<void>;
}

/**
 * Connects to REDIS_URL, or starts a local redis-server under DATA_DIR when it is unset (throws
 * RedisServerMissingError with install instructions when there is none). `reuseRunning` lets the
 * CLI use the Redis a running gateway started.
 */
export async function openRedis(
  config: Config,
  logger: Logger,
  opts: { reuseRunning?: boolean } = {},
): Promise<RedisHandle> {
  let local: LocalRedis | undefined;
  let url = config.REDIS_URL;
  if (!url && opts.reuseRunning) {
    const file = localRedisUrlFile(config);
    const known = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : "";
    if (known && (await answers(known))) url = known;
  }
  if (!url) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    local = await startLocalRedis({ dataDir: config.dataDir, logger });
    url = local.url;
    fs.writeFileSync(localRedisUrlFile(config), `${url}\n`);
    logger.info(
      { url, dir: path.join(config.dataDir, "redis") },
      "started a local redis-server (REDIS_URL is not set)",
    );
  }
  const redis = connectRedis(url);
  await redis.ping();
  return {
    redis,
    url,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
      if (local) {
        await local.stop();
        fs.rmSync(localRedisUrlFile(config), { force: true });
      }
    },
  };
}

async function answers(url: string): Promise<boolean> {
  const probe = connectRedis(url, "bellwether-probe");
  probe.on("error", () => undefined);
  try {
    await Promise.race([
      probe.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 1000)),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
