import { randomUUID } from "node:crypto";
import { FarmError, invalid } from "../errors.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import type { FarmStorage } from "../storage.js";
import type { Job, JobDefinition, JobStatus } from "./job.js";
import { finalStatuses, rollUpStatus, runnableStatuses } from "./job.js";
import type { JobListFilter, JobStore } from "./job-store.js";
import { compileJob, findJobType, SIMPLE_BLENDER_RENDER, validateSettings } from "./job-types.js";

export interface JobServiceOptions {
  maxJobFrames: number;
  jobFailPercent: number;
}

/** Settings that name files and must lie inside the farm storage, per job type. */
const pathSettings: Record<string, string[]> = {
  [SIMPLE_BLENDER_RENDER]: ["filepath", "render_output"],
};

/**
 * Jobs: submit (validate, compile, enqueue), read, and keep their status rolled up from their
 * frames as the Flamenco Manager does.
 */
export class JobService {
  constructor(
    private readonly store: JobStore,
    private readonly scheduler: Scheduler,
    private readonly storage: FarmStorage,
    private readonly opts: JobServiceOptions,
  ) {}

  /** Validates and compiles a job, puts its frames in line and answers it `queued`. */
  async submit(def: JobDefinition): Promise<Job> {
    const type = findJobType(def.type);
    if (!type) throw invalid("type", `unknown job type "${def.type}"`);
    const settings = validateSettings(type, def.settings);
    for (const key of pathSettings[type.name] ?? []) {
      settings[key] = await this.storage.confine(settings[key] as string, `settings.${key}`);
    }
    const compiled = compileJob(type.name, settings, this.opts.maxJobFrames);
    const now = new Date().toISOString();
    const job: Job = {
      ...def,
      settings,
      id: randomUUID(),
      status: "under-construction",
      created: now,
      updated: now,
      reason: "",
      frameCount: compiled.frames.length,
      completedFrames: 0,
      failedFrames: 0,
      chunkSize: compiled.chunkSize,
      taskType: compiled.taskType,
      hasVideo: compiled.hasVideo,
      videoState: "",
      sheepitId: await this.store.nextSheepitId(),
      needs: { device: "any", ramKb: 0, vramBytes: 0, renderSeconds: 0 },
    };
    await this.store.create(job, compiled.frames);
    await this.scheduler.enqueueJob(job, compiled.frames);
    await this.store.transition(job.id, "queued", { from: ["under-construction"] });
    const stored = await this.store.get(job.id);
    if (!stored) throw new FarmError("storage", "the job vanished while it was being submitted");
    return stored;
  }

  async get(id: string): Promise<Job> {
    const job = await this.store.get(id);
    if (!job) throw new FarmError("not-found", `no job ${id}`);
    return job;
  }

  list(filter?: JobListFilter): Promise<Job[]> {
    return this.store.list(filter);
  }

  /**
   * Re-reads the job's counters and moves its status where Flamenco's roll-up says (failed at the
   * failure threshold, completed when all is done). Called after every change of a frame.
   */
  async rollUp(jobId: string): Promise<JobStatus | null> {
    const job = await this.store.get(jobId);
    if (!job) return null;
    const next = rollUpStatus(job, this.opts.jobFailPercent);
    if (next === job.status) return next;
    const res = await this.store.transition(jobId, next, {
      from: [job.status],
      reason: next === "failed" ? "too many frames failed" : "",
    });
    if (res?.changed && (finalStatuses.has(next) || !runnableStatuses.has(next))) {
      await this.scheduler.setRunnable(jobId, false);
    }
    return res?.changed ? next : job.status;
  }
}
