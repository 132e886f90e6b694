import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { type LocalRedis, RedisServerMissingError, startLocalRedis } from "../../src/app/local-redis.js";
import { createLogger } from "../../src/app/logger.js";

/**
 * vitest globalSetup: one Redis for the whole suite, handed to test files as inject("redisUrl")
 * (see test/support/redis.ts). Chosen in this order:
 *   1. REDIS_URL, when set (nothing is started or stopped);
 *   2. a testcontainers redis:7-alpine container, when a Docker engine answers;
 *   3. a local redis-server (src/app/local-redis.ts) in a temporary directory.
 * Set TEST_REDIS=docker or TEST_REDIS=local to force 2 or 3.
 * Test files share this one server and keep apart by key prefix (uniquePrefix), never FLUSHALL.
 */

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

const DOCKER_PROBE_TIMEOUT_MS = 3_000;

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    note(`using REDIS_URL (${redactUrl(fromEnv)})`);
    project.provide("redisUrl", fromEnv);
    return undefined;
  }

  const forced = process.env.TEST_REDIS;
  if (forced !== "local" && (forced === "docker" || (await dockerEngineReachable()))) {
    const { url, teardown } = await startRedisContainer();
    note(`using a redis:7-alpine container at ${url}`);
    project.provide("redisUrl", url);
    return teardown;
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bellwether-test-redis-"));
  let local: LocalRedis;
  try {
    local = await startLocalRedis({ dataDir, logger: createLogger("warn") });
  } catch (err) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (err instanceof RedisServerMissingError) {
      throw new Error(`The tests need a Redis: REDIS_URL is unset and no Docker engine answered.\n${err.message}`);
    }
    throw err;
  }
  note(`using a local redis-server at ${local.url} (data in ${dataDir})`);
  project.provide("redisUrl", local.url);
  return async () => {
    await local.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}

function note(message: string): void {
  process.stderr.write(`[test redis] ${message}\n`);
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}

/**
 * Whether a Docker engine answers, decided quickly and quietly. Without DOCKER_HOST, a
 * testcontainers config file or any of the usual socket files there is nothing to ask; otherwise
 * testcontainers' own runtime discovery decides, bounded by a short timeout.
 */
async function dockerEngineReachable(): Promise<boolean> {
  const home = os.homedir();
  const candidates = [
    "/var/run/docker.sock",
    process.env.XDG_RUNTIME_DIR ? path.join(process.env.XDG_RUNTIME_DIR, "docker.sock") : "",
    path.join(home, ".docker", "run", "docker.sock"),
    path.join(home, ".docker", "desktop", "docker.sock"),
    path.join(home, ".testcontainers.properties"),
  ].filter(Boolean);
  const hint =
    Boolean(process.env.DOCKER_HOST) ||
    Boolean(process.env.TESTCONTAINERS_HOST_OVERRIDE) ||
    process.platform === "win32" ||
    candidates.some((p) => fs.existsSync(p));
  if (!hint) return false;

  let timer: NodeJS.Timeout | undefined;
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    const probe = getContainerRuntimeClient().then(
      () => true,
      () => false,
    );
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), DOCKER_PROBE_TIMEOUT_MS);
    });
    return await Promise.race([probe, timeout]);
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

async function startRedisContainer(): Promise<{ url: string; teardown: () => Promise<void> }> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const container = await new GenericContainer("redis:7-alpine")
    .withCommand(["redis-server", "--save", "", "--appendonly", "no"])
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  const url = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  return {
    url,
    teardown: async () => {
      await container.stop();
    },
  };
}
