import type { Redis } from "ioredis";
import { ExpiringMap } from "../../src/domain/expiring-map.js";
import { FrameList } from "../../src/domain/jobs/frame-range.js";
import type { Job } from "../../src/domain/jobs/job.js";
import type { Keys } from "./keys.js";
import { type JobFixedPart, jobFixedPart, jobFromParts, jobToHash } from "./redis-job-store.js";

/**
 * The fields of a job's hash (`{bw}:job:<id>`, redis-job-store.ts) that change after it was
 * created: the claim and completion scripts answer these (HMGET), not the whole hash.
 */
export const JOB_LIVE_FIELDS = [
  "id",
  "status",
  "updated",
  "reason",
  "priority",
  "completed",
  "failed",
  "videostate",
] as const;

const asLua = (fields: readonly string[]) => fields.map((f) => `'${f}'`).join(", ");

/** JOB_LIVE_FIELDS as Lua arguments of an HMGET (`'id', 'status', ...`). */
export const JOB_LIVE_FIELDS_LUA = asLua(JOB_LIVE_FIELDS);

/** How many live fields there are, and each one's place (1-based, as in Lua) in an HMGET of them. */
export const JOB_LIVE_FIELDS_COUNT = JOB_LIVE_FIELDS.length;
export const JOB_LIVE_FIELDS_INDEX = Object.fromEntries(JOB_LIVE_FIELDS.map((f, i) => [f, i + 1])) as Record<
  (typeof JOB_LIVE_FIELDS)[number],
  number
>;

/**
 * The fields written once, when the job is created, and never after (its definition and frame
 * count). `runs` (the frame list) is left out: no Job carries it.
 */
export const JOB_FIXED_FIELDS = [
  "name",
  "type",
  "settings",
  "metadata",
  "created",
  "total",
  "chunk",
  "tasktype",
  "video",
  "sheepit",
  "needs",
];

/** JOB_FIXED_FIELDS as Lua arguments of an HMGET. */
export const JOB_FIXED_FIELDS_LUA = asLua(JOB_FIXED_FIELDS);

const REMEMBER_MS = 10 * 60_000;
const NO_FRAMES = new FrameList([]);

/**
 * A job as a claim or a completion left it, from the live fields its script answered and the
 * fixed fields this process remembers (from the job it submitted or the job's first claim, which
 * answers them, else read once; kept for REMEMBER_MS: another gateway's job costs the first
 * claim here after the job's first one round trip more). Answering the
 * whole hash from the scripts cost Redis more than anything else of a one-frame claim and
 * completion but its calls (the settings and metadata are the largest fields, and they never
 * change); job ids are random UUIDs, never used again, so a remembered job cannot be another.
 */
export class JobRecords {
  private readonly fixed = new ExpiringMap<JobFixedPart>(10_000);

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Remembers the fixed fields of a job this process submits (as they are written). */
  remember(job: Job): void {
    this.keep(job.id, jobToHash(job, NO_FRAMES), Date.now());
  }

  forget(jobId: string): void {
    this.fixed.delete(jobId);
  }

  /**
   * The job from a script's HMGET of JOB_LIVE_FIELDS (and of JOB_FIXED_FIELDS when the script
   * answered them: a job's first claim); null when the job is gone. Jobs answered here share
   * their settings, metadata and needs, frozen: nothing changes a job's definition in place.
   */
  async fromLive(jobId: string, live: unknown, answeredFixed?: unknown): Promise<Job | null> {
    const values = Array.isArray(live) ? (live as Array<string | null>) : [];
    if (values[0] == null) return null;
    const now = Date.now();
    let fixed = this.fixed.get(jobId, now);
    if (!fixed && Array.isArray(answeredFixed)) fixed = this.keep(jobId, fieldsOf(answeredFixed), now);
    if (!fixed) {
      const read = await this.redis.hmget(this.keys.job(jobId), ...JOB_FIXED_FIELDS);
      // Removed since the script ran.
      if (read.every((v) => v == null)) return null;
      fixed = this.keep(jobId, fieldsOf(read), now);
    }
    const h: Record<string, string> = {};
    JOB_LIVE_FIELDS.forEach((f, i) => {
      const v = values[i];
      if (v != null) h[f] = String(v);
    });
    return jobFromParts(h, fixed);
  }

  private keep(jobId: string, h: Record<string, string | undefined>, now: number): JobFixedPart {
    const part = jobFixedPart(h);
    deepFreeze(part.settings);
    deepFreeze(part.metadata);
    deepFreeze(part.needs);
    this.fixed.set(jobId, part, now + REMEMBER_MS);
    return part;
  }
}

/** An HMGET of JOB_FIXED_FIELDS as a hash (absent fields left out). */
function fieldsOf(values: unknown[]): Record<string, string | undefined> {
  const h: Record<string, string | undefined> = {};
  JOB_FIXED_FIELDS.forEach((f, i) => {
    const v = values[i];
    if (v != null && v !== false) h[f] = String(v);
  });
  return h;
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}
