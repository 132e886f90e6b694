import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Redis } from "ioredis";
import { loadConfig } from "../../src/app/config.js";
import { createFarm, type Farm } from "../../src/app/farm.js";
import { createLogger } from "../../src/app/logger.js";
import type { JobDefinition } from "../../src/domain/jobs/job.js";
import { createTestRedis, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "./redis.js";

export interface TestFarm {
  farm: Farm;
  redis: Redis;
  prefix: string;
  storageRoot: string;
  /** Another farm on the same Redis and prefix, with its own connection (a second gateway process). */
  twin(): TestFarm;
  close(): Promise<void>;
}

/**
 * A farm on the suite's real Redis under a prefix of its own, with a temporary storage root.
 * `env` overrides configuration variables (durations are short by default here).
 */
export function createTestFarm(label: string, env: Record<string, string> = {}): TestFarm {
  const prefix = uniquePrefix(label);
  const storageRoot = fs.mkdtempSync(path.join(os.tmpdir(), `bw-${label}-`));
  const fullEnv = {
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: prefix,
    STORAGE_ROOT: storageRoot,
    DATA_DIR: path.join(storageRoot, ".data"),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    SWEEP_INTERVAL: "200ms",
    // Tests that want the gateway to make videos itself turn it on.
    GATEWAY_FFMPEG: "false",
    ...env,
  };
  const make = (owner: boolean): TestFarm => {
    const config = loadConfig(fullEnv);
    const redis = createTestRedis();
    const farm = createFarm(config, redis, createLogger(config.LOG_LEVEL));
    return {
      farm,
      redis,
      prefix,
      storageRoot,
      twin: () => make(false),
      async close() {
        await farm.close();
        if (owner) {
          await deleteKeysWithPrefix(redis, prefix);
          fs.rmSync(storageRoot, { recursive: true, force: true });
        }
        redis.disconnect();
      },
    };
  };
  return make(true);
}

/** How many example jobs each storage root has had (two unfinished jobs may not share frame paths). */
const exampleJobsPerRoot = new Map<string, number>();

/**
 * The spec's example job, with its paths moved under `storageRoot`. The first one of a storage
 * root renders to `frames/scene123/`, each later one to a folder of its own (`frames/scene123-2/`, ...).
 */
export function exampleJob(
  storageRoot: string,
  overrides: Partial<JobDefinition["settings"]> = {},
  priority = 50,
): JobDefinition {
  const n = (exampleJobsPerRoot.get(storageRoot) ?? 0) + 1;
  exampleJobsPerRoot.set(storageRoot, n);
  return {
    type: "simple-blender-render",
    name: "3Д рендеринг",
    priority,
    settings: {
      blender_cmd: "{blender}",
      filepath: path.join(storageRoot, "jobs/scene123.blend"),
      render_output: path.join(storageRoot, n === 1 ? "frames/scene123/######" : `frames/scene123-${n}/######`),
      frames: "1-10",
      chunk_size: 3,
      fps: 24,
      extract_audio: true,
      images_or_video: "images",
      format: "PNG",
      output_file_extension: ".png",
      ...overrides,
    },
    metadata: { "user.name": "Sybren Stüvel", project: "Sprite Fright" },
  };
}

export function waitFor<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      try {
        const v = await fn();
        if (v) return resolve(v);
      } catch (err) {
        if (Date.now() > until) return reject(err);
      }
      if (Date.now() > until) return reject(new Error(`waitFor: timed out after ${timeoutMs} ms`));
      setTimeout(tick, everyMs);
    };
    void tick();
  });
}
