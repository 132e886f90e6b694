import path from "node:path";
import { z } from "zod";
import { parseNetwork } from "../domain/workers/networks.js";

/**
 * Every setting of the gateway comes from an environment variable, validated here once at
 * start-up. A bad value stops the start with one line naming the variable (see `loadConfig`).
 * The README's "Configuration" table lists the same variables; keep the two in step.
 */

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((raw, ctx) => {
      const ms = parseDuration(raw);
      if (ms === undefined) {
        ctx.addIssue({ code: "custom", message: `"${raw}" is not a duration (examples: 500ms, 30s, 10m, 2h)` });
        return z.NEVER;
      }
      return ms;
    });

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const bytes = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((raw, ctx) => {
      const n = parseBytes(raw);
      if (n === undefined) {
        ctx.addIssue({ code: "custom", message: `"${raw}" is not a size (examples: 512MB, 2GB, 1048576)` });
        return z.NEVER;
      }
      return n;
    });

const bool = (fallback: boolean) =>
  z
    .enum(["1", "0", "true", "false", "yes", "no", "on", "off"])
    .default(fallback ? "true" : "false")
    .transform((v) => ["1", "true", "yes", "on"].includes(v));

const networks = (fallback: string) => z.string().default(fallback).transform(parseNetworkList);

function parseNetworkList(raw: string, ctx: z.RefinementCtx): string[] {
  const entries = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = entries.find((e) => !parseNetwork(e));
  if (bad !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: `"${bad}" is not a network (examples: 10.0.0.0/8, 192.168.1.7, fd00::/8)`,
    });
    return z.NEVER;
  }
  return entries;
}

/** Loopback and the private (RFC 1918, ULA, link-local) networks. */
export const PRIVATE_NETWORKS = "127.0.0.0/8,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,fe80::/10";

const cidrList = networks("");

export const configSchema = z.object({
  PORT: int(8080, 0, 65535),
  HOST: z.string().min(1).default("0.0.0.0"),
  PUBLIC_URL: z.url().optional(),
  REDIS_URL: z.string().min(1).optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only")
    .default("bw"),
  STORAGE_ROOT: z.string().min(1).default("./storage"),
  DATA_DIR: z.string().min(1).default("./data"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SHUTDOWN_GRACE: duration("10s"),

  // Scheduling and liveness.
  SHEEPIT_LEASE: duration("45m"),
  WORKER_TIMEOUT: duration("1m"),
  TASK_TIMEOUT: duration("10m"),
  SWEEP_INTERVAL: duration("15s"),
  MAX_STALLED: int(2, 1, 100),
  TASK_FAIL_WORKERS: int(3, 1, 100),
  BLOCKLIST_THRESHOLD: int(3, 1, 100),
  JOB_FAIL_PERCENT: z.coerce.number().min(0).max(100).default(10),
  MAX_JOB_FRAMES: int(1_000_000, 1, 2_000_000),
  FRAME_WINDOW: int(1000, 1, 2_000_000),

  // Flamenco workers.
  /** Where workers may register from (default: loopback and private networks). */
  WORKER_ALLOWED_NETWORKS: networks(PRIVATE_NETWORKS),
  /** Where farm control (jobs, tasks, worker management, metrics) is allowed without a token. */
  CONTROL_ALLOWED_NETWORKS: networks("127.0.0.0/8,::1"),
  /** Cap of a JSON API request body (adapters/http/control-auth.ts). */
  JSON_BODY_MAX: bytes("1MB"),
  /** Proxies whose X-Forwarded-For / -Host / -Proto are believed (see adapters/http/client-origin.ts). */
  TRUSTED_PROXIES: cidrList,
  BLENDER_CMD_LINUX: z.string().default("blender --factory-startup --background"),
  BLENDER_CMD_WINDOWS: z.string().default("blender.exe --factory-startup --background"),
  BLENDER_CMD_DARWIN: z
    .string()
    .default("/Applications/Blender.app/Contents/MacOS/Blender --factory-startup --background"),
  FFMPEG_CMD_LINUX: z.string().default("ffmpeg"),
  FFMPEG_CMD_WINDOWS: z.string().default("ffmpeg.exe"),
  FFMPEG_CMD_DARWIN: z.string().default("ffmpeg"),
  /** Exact commands a job may give as `blender_cmd` besides `{blender}` (comma-separated; default none). */
  ALLOWED_BLENDER_CMDS: z
    .string()
    .default("")
    .transform((raw) =>
      raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  TASK_LOG_MAX: bytes("1MB"),
  /** Largest preview a Flamenco 3 worker may send to `output-produced` (413 past it). */
  OUTPUT_PRODUCED_MAX: bytes("10MB"),
  /** A Flamenco 3 worker's previews are accepted at most once per this long (429 otherwise). */
  OUTPUT_PRODUCED_INTERVAL: duration("10s"),
  /** The gateway makes a job's video with its own ffmpeg when no signed-on worker can. */
  GATEWAY_FFMPEG: bool(true),
  FFMPEG_CMD: z.string().min(1).default("ffmpeg"),

  // SheepIt clients.
  MIN_CLIENT_VERSION: z.string().default("0.0.0"),
  RENDERERS_DIR: z.string().optional(),
  ARCHIVE_MAX: bytes("4GB"),
  /** Pieces of a job archive as 2024 SheepIt clients download them (download-chunk): 1KB to 1GB. */
  SHEEPIT_CHUNK_SIZE: bytes("16MB").refine((n) => n >= 1024 && n <= 1024 ** 3, "must be between 1KB and 1GB"),
  UPLOAD_MAX: bytes("512MB"),
  SPEEDTEST_MIRRORS: z
    .string()
    .default("")
    .transform((raw) =>
      raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  MAINTENANCE: bool(false),
  OVERLOAD_THRESHOLD: z.coerce.number().min(0).default(0),
  LOGIN_RATE_LIMIT: int(10, 1, 100_000),
  /** Password attempts per login from all addresses in 15 minutes; unset: 10 × LOGIN_RATE_LIMIT. */
  /** Wrong Flamenco worker secrets per address in 5 minutes before that address gets 429 unhashed. */
  WORKER_AUTH_RATE_LIMIT: int(20, 1, 1_000_000),
  LOGIN_RATE_LIMIT_PER_LOGIN: z.coerce.number().int().min(1).max(1_000_000).optional(),
  SHEEPIT_SESSION_TIMEOUT: duration("1h"),
  SHEEPIT_BROKEN_FRAMES: int(3, 1, 1000),
});

export type Config = z.output<typeof configSchema> & {
  /** Base URL clients reach the gateway at, without a trailing slash (`PUBLIC_URL`, else a guess from HOST and PORT). */
  publicUrl: string;
  /** True when the operator set PUBLIC_URL; otherwise each client's URLs come from its own request. */
  publicUrlSet: boolean;
  storageRoot: string;
  dataDir: string;
  renderersDir: string;
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Validates the environment; throws a ConfigError whose message is one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? "environment");
    throw new ConfigError(`invalid ${name}=${JSON.stringify(env[name] ?? "")}: ${issue?.message ?? "invalid"}`);
  }
  const c = parsed.data;
  const hostForUrl = c.HOST === "0.0.0.0" || c.HOST === "::" ? "127.0.0.1" : c.HOST;
  const publicUrl = (
    c.PUBLIC_URL ?? `http://${hostForUrl.includes(":") ? `[${hostForUrl}]` : hostForUrl}:${c.PORT}`
  ).replace(/\/+$/, "");
  const dataDir = path.resolve(c.DATA_DIR);
  return {
    ...c,
    publicUrl,
    publicUrlSet: c.PUBLIC_URL !== undefined,
    storageRoot: path.resolve(c.STORAGE_ROOT),
    dataDir,
    renderersDir: path.resolve(c.RENDERERS_DIR ?? path.join(dataDir, "renderers")),
  };
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(raw: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(raw);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (units[m[2] ?? "ms"] ?? 1));
}

const sizes: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

export function parseBytes(raw: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?\s*$/i.exec(raw);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (sizes[(m[2] ?? "b").toLowerCase()] ?? 1));
}
