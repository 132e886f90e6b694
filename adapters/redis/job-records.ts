import type { Redis } from "ioredis";
import { ExpiringMap } from "../../src/domain/expiring-map.js";
import { FrameList } from "../../src/domain/jobs/frame-range.js";
import type { Job } from "../../src/domain/jobs/job.js";
import type { Keys } from "./keys.js";
import { jobFromHash, jobToHash } from "./redis-job-store.js";

/**
 * The fields of a job's hash (`{bw}:job:<id>`, redis-job-store.ts) that change after it was
 * created: the claim and completion scripts answer these (HMGET), not the whole hash.
 */
export const JOB_LIVE_FIELDS = ["id", "status", "updated", "reason", "priority", "completed", "failed", "videostate"];

/** JOB_LIVE_FIELDS as Lua arguments of an HMGET (`'id', 'status', ...`). */
export const JOB_LIVE_FIELDS_LUA = JOB_LIVE_FIELDS.map((f) => `'${f}'`).join(", ");

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

const REMEMBER_MS = 10 * 60_000;
const NO_FRAMES = new FrameList([]);

/**
 * A job as a claim or a completion left it, from the live fields its script answered and the
 * fixed fields this process remembers (from the job it submitted, or read once per job, then kept
 * for REMEMBER_MS: another gateway's job costs its first claim here one round trip more). Answering the
 * whole hash from the scripts cost Redis more than anything else of a one-frame claim and
 * completion but its calls (the settings and metadata are the largest fields, and they never
 * change); job ids are random UUIDs, never used again, so a remembered job cannot be another.
 */
export class JobRecords {
  private readonly fixed = new ExpiringMap<Array<string | null>>(10_000);

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Remembers the fixed fields of a job this process submits (as they are written). */
  remember(job: Job): void {
    const h = jobToHash(job, NO_FRAMES);
    this.fixed.set(
      job.id,
      JOB_FIXED_FIELDS.map((f) => h[f] ?? null),
      Date.now() + REMEMBER_MS,
    );
  }

  forget(jobId: string): void {
    this.fixed.delete(jobId);
  }

  /** The job from a script's HMGET of JOB_LIVE_FIELDS; null when the job is gone. */
  async fromLive(jobId: string, live: unknown): Promise<Job | null> {
    const values = Array.isArray(live) ? (live as Array<string | null>) : [];
    if (values[0] == null) return null;
    const now = Date.now();
    let fixed = this.fixed.get(jobId, now);
    if (!fixed) {
      fixed = await this.redis.hmget(this.keys.job(jobId), ...JOB_FIXED_FIELDS);
      // Removed since the script ran.
      if (fixed.every((v) => v == null)) return null;
      this.fixed.set(jobId, fixed, now + REMEMBER_MS);
    }
    const h: Record<string, string> = {};
    JOB_FIXED_FIELDS.forEach((f, i) => {
      const v = fixed[i];
      if (v != null) h[f] = v;
    });
    JOB_LIVE_FIELDS.forEach((f, i) => {
      const v = values[i];
      if (v != null) h[f] = String(v);
    });
    return jobFromHash(h);
  }
}
