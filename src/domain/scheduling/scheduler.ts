import type { FrameList } from "../jobs/frame-range.js";
import type { Job, JobNeeds } from "../jobs/job.js";
import type { ClaimRequest, CompletionResult, FailureResult, Lease } from "./capabilities.js";

/** A claimed lease, and its job as the claim left it (null when the scheduler did not read it). */
export interface Claimed {
  lease: Lease;
  job: Job | null;
}

/**
 * The scheduling port: what "claim work for these capabilities" means. Implemented on BullMQ
 * (adapters/bullmq/bullmq-scheduler.ts). Guarantees, each tested against real Redis:
 * - a frame is held by at most one lease at a time, whatever the number of concurrent claimers;
 * - higher job priority first; among equal priorities the job served least recently goes first
 *   (fair share: a big job does not starve a small one submitted after it);
 * - only work the session can do: task type, device, memory, render-time limit, not blocklisted,
 *   never a frame the session failed before;
 * - a run of up to `maxFrames` consecutive frames of one job is claimed at once, under one lease;
 * - a job's video task becomes claimable only when all its frames completed;
 * - a lease that runs out puts its frames back in line; a frame that stalls too often fails.
 */
export interface Scheduler {
  /**
   * Puts a compiled job's frames in line and makes the job claimable. Every frame is in line when
   * it returns, though a big job's frames need not all be stored as queue entries yet (the
   * BullMQ scheduler keeps a window of them ahead of the claims and a cursor for the rest).
   */
  enqueueJob(job: Job, frames: FrameList): Promise<void>;
  /**
   * Claims work for a session; null when nothing fits. Bounded Redis round trips. With the lease
   * comes the job as the claim left it, when the scheduler read it in the same step (null: read it).
   */
  claim(request: ClaimRequest): Promise<Claimed | null>;
  /** The lease, or null when it does not exist. */
  getLease(leaseId: string): Promise<Lease | null>;
  /**
   * A lease this process claimed for the session, as it was claimed (no read; its state may have
   * changed since: `complete` checks that it is still active and the session's). Null: read it.
   */
  claimedHere(leaseId: string, sessionId: string): Lease | null;
  /** The leases the session holds now (leases whose frames all ran out are dropped). */
  sessionLeases(sessionId: string): Promise<Lease[]>;
  /** Extends a lease held by `sessionId`; false when it is no longer held. */
  extend(leaseId: string, sessionId: string, leaseMs: number): Promise<boolean>;
  /** Completes frames of the lease (all of them when `frames` is omitted); the caller checked it holds it. */
  complete(lease: Lease, frames?: number[]): Promise<CompletionResult>;
  /** Completes a frame whose lease ran out while nobody else holds or finished it; false otherwise. */
  completeLate(leaseId: string, sessionId: string, frame: number): Promise<boolean>;
  /** Fails the lease's frames under the failure rules; each goes back in line or fails for good. */
  fail(lease: Lease, reason: string, frames?: number[]): Promise<FailureResult>;
  /** Puts the lease's frames back in line without counting a failure (sign-off, logout, timeout). */
  release(leaseId: string, sessionId: string, state?: "released" | "canceled"): Promise<void>;
  /**
   * Gives back a lease its client never heard of (the answer was lost or never sent); never
   * throws, and keeps trying in the background while the store does not answer.
   */
  giveBack(leaseId: string, sessionId: string): Promise<void>;
  /** Takes every active lease of the job back (job canceled or failed); returns how many. */
  releaseJob(jobId: string): Promise<number>;
  /** The job's leases (its Flamenco tasks), newest first. */
  jobLeases(jobId: string, page?: { offset?: number; limit?: number }): Promise<Lease[]>;
  /** Indices of the job's frames that failed for good. */
  failedFrameIndices(jobId: string): Promise<number[]>;
  /** How many of the job's frames (or its video) are held under a lease now. */
  activeFrameCount(jobId: string): Promise<number>;
  /** Makes the job claimable again (after pause, requeue) or not (pause, cancel, fail, delete). */
  setRunnable(jobId: string, runnable: boolean): Promise<void>;
  /** Updates what the job is known to need from clients. */
  setNeeds(jobId: string, needs: Partial<JobNeeds>): Promise<void>;
  /** What the scheduler holds the job to need now (raised by setNeeds); null for an unknown job. */
  needs(jobId: string): Promise<JobNeeds | null>;
  /** Puts frames (by index) back in line again with their counts undone (job requeued). */
  requeueFrames(jobId: string, indices: number[]): Promise<void>;
  /** Puts the job's video task back in line when it did not complete; true when it had failed. */
  requeueVideo(jobId: string): Promise<boolean>;
  /** Puts the video task in line when the job has one and all its frames completed (idempotent). */
  startVideoIfAny(jobId: string): Promise<boolean>;
  /** Clears the job's blocklist and its tasks' failure lists (job requeued, as Flamenco does). */
  clearFailures(jobId: string): Promise<void>;
  /** Removes the job's queue entirely. */
  removeJob(jobId: string): Promise<void>;
  /** Runs the periodic checks: stalled leases back in line, stall-limit failures recorded. */
  sweep(): Promise<void>;
  close(): Promise<void>;
}
