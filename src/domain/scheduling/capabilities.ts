import type { Job } from "../jobs/job.js";

/**
 * What a client can do, as the scheduler sees it. Both protocols fill it: a Flamenco worker from its
 * sign-on (task types), a SheepIt client from its config and request_job parameters (device, memory,
 * render-time limit). Jobs the session is blocklisted from are kept in Redis per job and checked
 * inside the claim, by `sessionId`.
 */
export interface Capabilities {
  sessionId: string;
  /** Task types the client runs: `blender`, `ffmpeg`, `file-management`, `misc`. */
  taskTypes: readonly string[];
  /** Devices the client offers: `cpu`, `gpu` or `any` (both). */
  device: "any" | "cpu" | "gpu";
  /** Renderer memory limit in KB; undefined when unknown (no memory matching). */
  ramKb?: number;
  /** GPU memory in bytes; undefined when unknown or no GPU. */
  vramBytes?: number;
  /** Longest render time allowed per frame in seconds; undefined for no limit. */
  renderSecondsMax?: number;
}

/** A claim: up to `maxFrames` consecutive frames of one job for one session, under one lease. */
export interface ClaimRequest {
  caps: Capabilities;
  /** A number, or `job-chunk` for the chosen job's own chunk size (Flamenco workers). */
  maxFrames: number | "job-chunk";
  leaseMs: number;
  /** The first line of the lease's log (a Flamenco task's "Task assigned to worker ..."), written with the claim. */
  log?: string;
}

/** One claimed run of frames (or a job's video task), held under one lease id. */
export interface Lease {
  /** UUID; Flamenco's task id, BullMQ's lock token. */
  id: string;
  jobId: string;
  sessionId: string;
  /** `render` for frames, `video` for the job's post-processing task. */
  phase: "render" | "video";
  /** Frame numbers, ascending (empty for the video task). */
  frames: number[];
  /** Frame indices within the job's frame list, ascending. */
  indices: number[];
  taskType: string;
  created: string;
  updated: string;
  leaseMs: number;
  /**
   * `active` while held; then `completed`, `failed` (a frame failed for good), `soft-failed` (its
   * frames will be tried again), `released` (given back), `lost` (ran out) or `canceled` (its job
   * was canceled or failed while it was held).
   */
  state: "active" | "completed" | "failed" | "soft-failed" | "released" | "lost" | "canceled";
  /** 1 for a first try; n when a frame of it had been handed out n - 1 times before. */
  attempt: number;
}

export interface CompletionResult {
  /** Frames this call completed; a frame already completed or lost is not counted again. */
  completed: number[];
  /** Frames the caller no longer held (lease ran out and another client took them). */
  lost: number[];
  /** The job as the completion left it, when the scheduler read it in the same step. */
  job?: Job | null;
  /** Nothing was done: the lease does not exist, or is no longer active or the session's. */
  notHeld?: "not-found" | "not-yours";
}

export interface FailureResult {
  /** Frames that will be tried again by another client. */
  retried: number[];
  /** Frames that failed for good (failed by too many clients). */
  failed: number[];
  /** The session is now blocklisted from this job. */
  blocklisted: boolean;
}
