import { z } from "zod";
import { Chunks, JobRequestStatus2024, REQUEST_TYPES } from "./dialect-2024.js";

export * from "./dialect-2024.js";

/**
 * SheepIt's XML protocol on the wire (../shared/specs/sheepit-protocol.txt and the behaviour notes
 * of real clients beside it; what 2023+ clients add, sheepit-protocol-2024.md, is in ./dialect-2024.ts):
 * each endpoint's parameters (query string and form body merged), the
 * XML bodies clients send, the attribute sets of the XML answers, and the status codes.
 */

// ---- status codes ---------------------------------------------------------------------------

export const ConfigStatus = {
  ok: 0,
  noVersion: 100,
  tooOld: 101,
  authFailed: 102,
  sessionExpired: 103,
  missingParameter: 104,
} as const;

export const JobRequestStatus = {
  ok: 0,
  noJob: 200,
  noRight: 201,
  sessionDead: 202,
  sessionDisabled: 203,
  noRenderer: 205,
  maintenance: 206,
  overloaded: 207,
  ...JobRequestStatus2024,
  /** Malformed parameters or `<cache>` body (not in the spec: real clients treat it as "unknown error"). */
  badRequest: 400,
} as const;

export const ValidateStatus = {
  ok: 0,
  missingParameter: 300,
  brokenFrame: 301,
  notAnImage: 302,
  uploadFailed: 303,
  sessionDisabled: 304,
} as const;

export const KeepAliveStatus = { ok: 0, stop: 400 } as const;

/** error.php and speedtest.php answers (the spec names no codes; 300 mirrors "missing parameter"). */
export const ReportStatus = { ok: 0, badRequest: 300 } as const;

/** error.php `type` values the farm acts on (the spec lists them all). */
export const ClientErrorType = {
  startupLog: 0,
  wrongConfiguration: 1,
  outOfVram: 13,
  killedByUser: 20,
  outOfRam: 21,
  killedByServer: 22,
  renderTimeLimit: 23,
  imageTooLarge: 26,
} as const;

// ---- parameters -----------------------------------------------------------------------------

/** A Java `int` as a decimal string. */
const int32 = z
  .string()
  .trim()
  .regex(/^-?\d{1,10}$/, "must be an integer")
  .transform(Number)
  .refine((n) => n >= -(2 ** 31) && n < 2 ** 31, "must fit a 32-bit integer");
/** A non-negative integer that may exceed 2^31 (memory sizes in bytes). */
const count = z
  .string()
  .trim()
  .regex(/^\d{1,18}$/, "must be a non-negative integer")
  .transform(Number);
const text = (max = 256) => z.string().max(max);

export const ConfigParams = z.object({
  login: text(128).min(1),
  password: text(512).min(1),
  version: text(64).min(1),
  os: text(32).min(1),
  bits: text(16).min(1),
  os_version: text(256).optional(),
  cpu_family: text(64).optional(),
  cpu_model: text(64).optional(),
  cpu_model_name: text(256).optional(),
  cpu_cores: int32.optional(),
  ram: count.optional(),
  ram_max: count.optional(),
  extras: text(1024).optional(),
  hostname: text(256).optional(),
  ui: text(64).optional(),
  headless: text(16).optional(),
  hwid: text(256).optional(),
});
export type ConfigParams = z.output<typeof ConfigParams>;

export const RequestJobParams = z.object({
  computemethod: z.enum(["0", "1", "2"]).default("0"),
  network_dl: count.optional(),
  network_up: count.optional(),
  cpu_cores: int32.optional(),
  ram_max: count.optional(),
  rendertime_max: int32.optional(),
  gpu_type: text(64).optional(),
  gpu_model: text(256).optional(),
  gpu_ram: count.optional(),
});
export type RequestJobParams = z.output<typeof RequestJobParams>;

export const ArchiveParams = z.object({
  type: z.enum(["binary", "job"]),
  job: int32,
});

/** The frame as clients send it back: the zero-padded string the job gave them. */
const frameParam = z
  .string()
  .trim()
  .regex(/^-?\d{1,8}$/, "must be a frame number")
  .transform(Number);

export const ValidationParams = z.object({
  job: int32,
  frame: frameParam,
  token: z.string().min(1).max(200),
  rendertime: int32.optional(),
  memoryused: count.optional(),
  cores: int32.optional(),
});

export const KeepAliveParams = z.object({
  job: int32.optional(),
  frame: frameParam.optional(),
  rendertime: int32.optional(),
  remainingtime: int32.optional(),
  paused: z.enum(["true", "false", "1", "0"]).optional(),
});

export const ErrorParams = z.object({
  /** May be empty (older clients). */
  type: z
    .string()
    .trim()
    .regex(/^\d{0,4}$/, "must be an error type number")
    .transform((s) => (s === "" ? 0 : Number(s)))
    .default(0),
  job: int32.optional(),
  frame: frameParam.optional(),
  render_time: int32.optional(),
  memoryused: count.optional(),
});

// ---- XML bodies clients send ----------------------------------------------------------------

const md5 = z.string().regex(/^[0-9a-fA-F]{32}$/, "must be an MD5 in hex");

/** request_job's body: the md5s of the job archives the client holds. */
export const CacheBody = z.object({ files: z.array(z.object({ md5 })).max(10_000) });
export type CacheBody = z.output<typeof CacheBody>;

export const SpeedtestBody = z.object({
  results: z
    .array(
      z.object({
        target: z.string().max(1024),
        speed: z.coerce.number().nonnegative(),
        ping: z.coerce.number().nonnegative(),
      }),
    )
    .max(50),
});
export type SpeedtestBody = z.output<typeof SpeedtestBody>;

// ---- XML answers ----------------------------------------------------------------------------

/** Java `int`: an integer below 2^31. */
const jint = z
  .number()
  .int()
  .min(-(2 ** 31))
  .max(2 ** 31 - 1);

export const RequestPath = z.object({
  type: z.enum(REQUEST_TYPES),
  path: z.string().min(1),
  "max-period": jint.optional(),
});

export const ConfigAnswer = z.object({
  status: jint,
  /** Always present: clients crash without it (`""` is allowed). */
  publickey: z.string(),
  requests: z.array(RequestPath),
  speedtest: z.array(z.string()).optional(),
});
export type ConfigAnswer = z.input<typeof ConfigAnswer>;

export const Stats = z.object({
  credits_session: jint,
  credits_total: jint,
  frame_remaining: jint,
  waiting_project: jint,
  connected_machine: jint,
  renderable_project: jint,
});
export type Stats = z.output<typeof Stats>;

export const RendererAttrs = z.object({
  md5: z.string().regex(/^[0-9a-f]{32}$/),
  commandline: z.string().min(1),
  update_method: z.enum(["remainingtime", "by_tile"]),
});

export const JobAttrs = z.object({
  id: jint.min(20),
  use_gpu: z.union([z.literal(0), z.literal(1)]),
  archive_md5: z.string().regex(/^[0-9a-f]{32}$/),
  path: z.string().min(1),
  frame: z.string().regex(/^-?\d{4,}$/),
  synchronous_upload: z.union([z.literal(0), z.literal(1)]),
  validation_url: z.string().regex(/^https?:\/\/[^?]+\?.+/),
  name: z.string(),
  password: z.string(),
  extras: z.literal(""),
});

export const JobRequestAnswer = z.object({
  status: jint,
  stats: Stats.optional(),
  /** `archive_md5` for 2020–2022 clients and `<chunks>` for 2024 ones, in one `<job>`. */
  job: JobAttrs.extend({ renderer: RendererAttrs, script: z.string().min(1), chunks: Chunks }).optional(),
  /** md5s of cached archives the client should delete. */
  deleteFiles: z.array(z.string()).optional(),
});
export type JobRequestAnswer = z.input<typeof JobRequestAnswer>;
