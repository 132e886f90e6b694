import fs from "node:fs";
import path from "node:path";
import { RedisServerMissingError, RedisStartError } from "./local-redis/errors.js";
import { findOnPath } from "./local-redis/find-on-path.js";
import { findFreePort } from "./local-redis/free-port.js";
import type { LocalRedis, StartLocalRedisOptions } from "./local-redis/options.js";
import { startOnce } from "./local-redis/redis-server-process.js";
import { takeOverDir } from "./local-redis/take-over-dir.js";

export { REDIS_SERVER_MISSING_MESSAGE, RedisServerMissingError, RedisStartError } from "./local-redis/errors.js";
export { findOnPath } from "./local-redis/find-on-path.js";
export { findFreePort } from "./local-redis/free-port.js";
export type { LocalRedis, StartLocalRedisOptions } from "./local-redis/options.js";

/**
 * A private redis-server that Bellwether starts and stops itself when REDIS_URL is unset, so a
 * single machine needs no separately managed Redis. It listens on 127.0.0.1 only, keeps an
 * append-only file under `<dataDir>/redis`, and writes no RDB snapshots. It runs in its own
 * process group (a Ctrl-C for the gateway leaves it to stop() to end it) and writes a pid file, so
 * a second server is never started on the same append-only file.
 */

/**
 * Starts the local redis-server: finds the binary, takes over its directory (local-redis/take-over-dir.ts),
 * and runs it (local-redis/redis-server-process.ts), on another free port when the picked one was taken.
 */
export async function startLocalRedis(opts: StartLocalRedisOptions): Promise<LocalRedis> {
  const binary = findOnPath("redis-server", opts.searchPath);
  if (!binary) throw new RedisServerMissingError();

  const dir = path.resolve(opts.dataDir, "redis");
  await fs.promises.mkdir(dir, { recursive: true });
  const log = opts.logger.child({ component: "redis-server" });
  await takeOverDir(dir, log, opts.stopTimeoutMs ?? 10_000);

  // A port picked by findFreePort can be taken before redis-server binds it; retry then.
  const attempts = opts.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await findFreePort());
    try {
      return await startOnce(binary, dir, port, log, opts);
    } catch (err) {
      if (attempt < attempts && err instanceof RedisStartError && /address already in use/i.test(err.message)) {
        log.debug({ port }, "port was taken before redis-server bound it; trying another");
        continue;
      }
      throw err;
    }
  }
}
