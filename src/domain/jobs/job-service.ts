import { randomUUID } from "node:crypto";
import { FarmError, invalid } from "../errors.js";
import { type FarmEvents, type FrameChange, noFarmEvents } from "../events.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import type { FarmStorage } from "../storage.js";
import type { Job, JobDefinition, JobStatus } from "./job.js";
import { finalStatuses, rollUpStatus, runnableStatuses } from "./job.js";
import type { JobListFilter, JobStore } from "./job-store.js";
import { compileJob, findJobType, SIMPLE_BLENDER_RENDER, validateSettings } from "./job-types.js";
import { finalMoveOf, MoveToFinal, type OutputMover } from "./move-to-final.js";
import type { OutputClaims } from "./output-claims.js";
import { PathRechecks } from "./path-rechecks.js";
import {
  checkSettingsAfterPaths,
  checkSettingsBeforePaths,
  claimOutput,
  commandsRefused,
  outputClaimOfJob,
} from "./submit-checks.js";

export interface JobServiceOptions {
  maxJobFrames: number;
  jobFailPercent: number;
  /** Commands a job may give as `blender_cmd` besides `{blender}` (ALLOWED_BLENDER_CMDS). */
  allowedBlenderCmds?: readonly string[];
}

/** Statuses an operator may ask for, and the statuses each may be asked from. */
const statusRequests: Partial<Record<JobStatus, readonly JobStatus[]>> = {
  "cancel-requested": ["queued", "active", "paused", "requeued", "under-construction", "waiting-for-files"],
  paused: ["queued", "active", "requeued"],
  queued: ["paused"],
  requeued: ["completed", "failed", "canceled", "paused"],
};

/** Settings that name files and must lie inside the farm storage, per job type. */
const pathSettings: Record<string, string[]> = {
  [SIMPLE_BLENDER_RENDER]: ["filepath", "render_output"],
};

/**
 * Jobs: submit (validate, compile, enqueue), read, and keep their status rolled up from their
 * frames as the Flamenco Manager does.
 */
export class JobService {
  private readonly finalMoves: MoveToFinal | null;
  private readonly rechecks: PathRechecks;

  constructor(
    private readonly store: JobStore,
    private readonly scheduler: Scheduler,
    private readonly storage: FarmStorage,
    private readonly opts: JobServiceOptions,
    /** Which unfinished job renders to which frame paths (none: not checked). */
    private readonly claims?: OutputClaims,
    /** Moves a 3.x job's intermediate folder to its final one before it completes (none: no move). */
    mover?: OutputMover,
    /** Where changes are told to live views (the dashboard). */
    private readonly events: FarmEvents = noFarmEvents,
  ) {
    this.finalMoves = mover ? new MoveToFinal(store, scheduler, storage, mover) : null;
    this.rechecks = new PathRechecks(storage);
  }

  /** Validates and compiles a job, puts its frames in line and answers it `queued`. */
  async submit(def: JobDefinition): Promise<Job> {
    const type = findJobType(def.type);
    if (!type) throw invalid("type", `unknown job type "${def.type}"`);
    const settings = validateSettings(type, def.settings);
    checkSettingsBeforePaths(type.name, settings, this.opts.allowedBlenderCmds ?? []);
    for (const key of pathSettings[type.name] ?? []) {
      settings[key] = await this.storage.confine(settings[key] as string, `settings.${key}`);
    }
    checkSettingsAfterPaths(type.name, settings, this.storage);
    const claim = await outputClaimOfJob({ type: type.name, settings }, this.storage);
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
    // Claimed once the record exists (under construction counts as unfinished for other claims).
    await this.claimFramePaths(job, claim).catch(async (err) => {
      await this.store.delete(job.id);
      throw err;
    });
    await this.scheduler.enqueueJob(job, compiled.frames);
    await this.store.transition(job.id, "queued", { from: ["under-construction"] });
    this.events.publish({ type: "job", jobId: job.id });
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
   * An operator's status request, following the later Flamenco Managers' `setstatus`:
   * `cancel-requested` cancels (held frames are taken back; late results are not counted),
   * `paused` stops handing out frames (held frames may finish), `queued` resumes a paused job,
   * `requeued` puts failed frames (or, for a completed job, all frames) back in line.
   * Throws `invalid-transition` when the request is not valid from the current status.
   */
  async setStatus(id: string, requested: JobStatus, reason = ""): Promise<Job> {
    const job = await this.get(id);
    const allowedFrom = statusRequests[requested];
    if (!allowedFrom) {
      throw new FarmError(
        "invalid-transition",
        `a job cannot be set to "${requested}"; ask for one of ${Object.keys(statusRequests).join(", ")}`,
      );
    }
    if (!allowedFrom.includes(job.status)) {
      throw new FarmError("invalid-transition", `job ${id} is ${job.status}; it cannot go to ${requested} from there`);
    }
    if (requested === "requeued" && finalStatuses.has(job.status)) await this.reclaimFramePaths(job);
    const why = reason || `requested ${requested}`;
    switch (requested) {
      case "cancel-requested": {
        await this.scheduler.setRunnable(id, false);
        await this.store.transition(id, "cancel-requested", { from: [job.status], reason: why });
        await this.scheduler.releaseJob(id);
        await this.store.transition(id, "canceled", { from: ["cancel-requested"], reason: why });
        break;
      }
      case "paused": {
        await this.scheduler.setRunnable(id, false);
        await this.store.transition(id, "paused", { from: [job.status], reason: why });
        break;
      }
      case "queued": {
        await this.store.transition(id, "queued", { from: [job.status], reason: why });
        await this.scheduler.setRunnable(id, true);
        break;
      }
      case "requeued": {
        // Exactly what is not done goes back: failed frames (all frames of a completed job, as
        // Flamenco does) and a failed video; who failed it is forgotten (blocklist, failure lists).
        const frames = job.status === "completed" ? await this.store.frames(id) : null;
        const indices = frames
          ? Array.from({ length: frames.length }, (_, i) => i)
          : await this.scheduler.failedFrameIndices(id);
        await this.scheduler.clearFailures(id);
        await this.scheduler.requeueFrames(id, indices);
        if (!frames && job.videoState === "failed") await this.scheduler.requeueVideo(id);
        await this.store.transition(id, "requeued", { from: [job.status], reason: why });
        await this.finalMoves?.track(job);
        await this.scheduler.setRunnable(id, true);
        await this.scheduler.startVideoIfAny(id);
        break;
      }
    }
    await this.rollUp(id);
    return this.get(id);
  }

  /**
   * Puts chosen work of the job back in line (an operator requeues one task): frames by index and,
   * with `video`, a failed video task; who failed the job is forgotten, as a job requeue does (else
   * a frame every client failed could never run again). A finished job goes `requeued` and is handed
   * out again; a paused job stays paused. `invalid-transition` while the job is being canceled or built.
   */
  async requeueWork(id: string, work: { indices: number[]; video: boolean }, reason: string): Promise<Job> {
    const job = await this.get(id);
    const finished = finalStatuses.has(job.status);
    if (!finished && !runnableStatuses.has(job.status) && job.status !== "paused") {
      throw new FarmError("invalid-transition", `job ${id} is ${job.status}; its tasks cannot be requeued now`);
    }
    if (finished) await this.reclaimFramePaths(job);
    await this.scheduler.clearFailures(id);
    await this.scheduler.requeueFrames(id, work.indices);
    if (work.video) await this.scheduler.requeueVideo(id);
    if (finished) {
      await this.store.transition(id, "requeued", { from: [job.status], reason });
      await this.finalMoves?.track(job);
      await this.scheduler.setRunnable(id, true);
    }
    await this.scheduler.startVideoIfAny(id);
    await this.rollUp(id);
    return this.get(id);
  }

  async setPriority(id: string, priority: number): Promise<Job> {
    if (!Number.isInteger(priority) || priority < 0 || priority > 1_000_000) {
      throw invalid("priority", "priority must be an integer from 0 to 1000000");
    }
    if (!(await this.store.setPriority(id, priority))) throw new FarmError("not-found", `no job ${id}`);
    const job = await this.get(id);
    if (runnableStatuses.has(job.status)) await this.scheduler.setRunnable(id, true);
    this.events.publish({ type: "job", jobId: id });
    return job;
  }

  /** Deletes the job: its frames leave the queues, held frames are taken back; its files stay. */
  async delete(id: string): Promise<void> {
    const job = await this.get(id);
    await this.scheduler.setRunnable(id, false);
    await this.scheduler.releaseJob(id);
    await this.scheduler.removeJob(id);
    await this.store.delete(id);
    await this.finalMoves?.untrack(id);
    await this.releaseFramePaths(job);
    this.events.publish({ type: "job-deleted", jobId: id });
  }

  /** The job's tasks (leases), newest first. */
  async tasks(id: string, page: { offset?: number; limit?: number } = {}) {
    await this.get(id);
    return this.scheduler.jobLeases(id, page);
  }

  /**
   * Re-reads the job's counters and moves its status where Flamenco's roll-up says (failed at the
   * failure threshold, completed when all is done). Called after every change of a frame; `frames`
   * are the changes, told to live views with the job's event. `known`: the job as the change that
   * calls this just left it (it is not read again).
   */
  async rollUp(jobId: string, frames?: FrameChange[], known?: Job | null): Promise<JobStatus | null> {
    const status = await this.rollUpOnce(jobId, known);
    // Every change of a frame ends here: live views hear of it once the status is settled.
    if (status !== null) this.events.publish(frames ? { type: "job", jobId, frames } : { type: "job", jobId });
    return status;
  }

  private async rollUpOnce(jobId: string, known?: Job | null): Promise<JobStatus | null> {
    const job = known ?? (await this.store.get(jobId));
    if (!job) return null;
    const next = rollUpStatus(job, this.opts.jobFailPercent);
    if (next === job.status) return next;
    // A 3.x job is completed only once its output is in its final folder (move-to-final.ts).
    const move = next === "completed" && this.finalMoves ? finalMoveOf(job) : null;
    if (move && this.finalMoves) {
      const done = (j: Job) => j.status !== "completed" && rollUpStatus(j, this.opts.jobFailPercent) === "completed";
      return this.finalMoves.complete(job, move, done);
    }
    const res = await this.store.transition(jobId, next, {
      from: [job.status],
      reason: next === "failed" ? "too many frames failed" : "",
    });
    if (res?.changed && (finalStatuses.has(next) || !runnableStatuses.has(next))) {
      await this.scheduler.setRunnable(jobId, false);
      // A failed job's remaining work is canceled: held frames are taken back.
      if (next === "failed") await this.scheduler.releaseJob(jobId);
    }
    return res?.changed ? next : job.status;
  }

  /**
   * Rolls up the runnable 3.x jobs whose work is all done but that are not completed: the process
   * that finished their last task stopped before it could move their output (part of the sweep).
   */
  async completeFinished(now = Date.now()): Promise<void> {
    const done = (j: Job) =>
      runnableStatuses.has(j.status) && rollUpStatus(j, this.opts.jobFailPercent) === "completed";
    await this.finalMoves?.sweep((id) => this.rollUp(id), done, now);
  }

  /**
   * Work of the job was handed out (WorkService.claim): a job that ends with a move is noted, so
   * `completeFinished` finds it should the process that finishes its last task stop before the move.
   */
  async noteWorkOut(job: Job): Promise<void> {
    await this.finalMoves?.track(job);
  }

  /** Work of the job may finish without a claim first (a frame delivered late): noted as `noteWorkOut` does. */
  async noteWorkFinishing(jobId: string): Promise<void> {
    await this.finalMoves?.trackId(jobId);
  }

  // ---- frame paths (see submit-checks.ts; README "What a job may do") --------------------------

  private claimFramePaths(job: Job, claim: Awaited<ReturnType<typeof outputClaimOfJob>>): Promise<void> {
    if (!this.claims) return Promise.resolve();
    return claimOutput(this.claims, job, claim, async (holder) => (await this.store.get(holder))?.name ?? "");
  }

  /** A finished job put back in line claims its frame paths again (refused while another unfinished job has them). */
  private async reclaimFramePaths(job: Job): Promise<void> {
    await this.claimFramePaths(job, await outputClaimOfJob(job, this.storage));
  }

  private async releaseFramePaths(job: Job): Promise<void> {
    if (!this.claims) return;
    const claim = await outputClaimOfJob(job, this.storage).catch(() => null);
    if (claim) await this.claims.release(job.id, claim);
  }

  /**
   * Whether the job's paths are still inside the storage (links resolved) and its commands allowed
   * when a task is handed out (a job stored before these checks, or ALLOWED_BLENDER_CMDS changed);
   * a job that is no longer safe fails with the reason, and false is answered. A pass is remembered
   * for a second per job (PathRechecks).
   */
  async pathsStillSafe(job: Job): Promise<boolean> {
    const why = commandsRefused(job, this.opts.allowedBlenderCmds ?? []) ?? (await this.rechecks.why(job));
    if (!why) return true;
    await this.scheduler.setRunnable(job.id, false);
    await this.store.transition(job.id, "failed", {
      from: ["queued", "active", "requeued", "paused"],
      reason: `the job is no longer safe to hand out: ${why}`,
    });
    await this.scheduler.releaseJob(job.id);
    this.events.publish({ type: "job", jobId: job.id });
    return false;
  }
}
