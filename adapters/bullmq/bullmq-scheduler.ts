import type { Redis } from "ioredis";
import type { Logger } from "../../src/app/logger.js";
import type { FrameList } from "../../src/domain/jobs/frame-range.js";
import type { Job, JobNeeds } from "../../src/domain/jobs/job.js";
import type { ClaimRequest, CompletionResult, FailureResult, Lease } from "../../src/domain/scheduling/capabilities.js";
import type { Claimed, Scheduler } from "../../src/domain/scheduling/scheduler.js";
import { failInFlightOnDisconnect } from "../redis/connection.js";
import type { Keys } from "../redis/keys.js";
import type { BullmqSchedulerOptions, ProgressListener } from "./bullmq-scheduler-options.js";
import { Claims } from "./claims.js";
import { Completions } from "./completions.js";
import { FailureBooks } from "./failure-books.js";
import { Failures } from "./failures.js";
import { FrameFill } from "./frame-fill.js";
import { indexOfBullId } from "./frame-ids.js";
import { FrameSettler } from "./frame-settler.js";
import { JobNeedsBook } from "./job-needs-book.js";
import { JobQueues } from "./job-queues.js";
import { JobRemoval } from "./job-removal.js";
import { JobRequeue } from "./job-requeue.js";
import { KnownLeases } from "./known-leases.js";
import { LeaseHolds } from "./lease-holds.js";
import { LeaseReads } from "./lease-reads.js";
import { SchedulerContext } from "./scheduler-context.js";
import { Sweep } from "./sweep.js";
import { VideoTask } from "./video-task.js";

export type { BullmqSchedulerOptions, ProgressListener } from "./bullmq-scheduler-options.js";

/**
 * The scheduling port on BullMQ. Each farm job has a queue; each frame is a BullMQ job whose
 * priority is its index in the job's frame list, so BullMQ hands frames out in order and a frame
 * that comes back takes its old place. A claim is one atomic script (claims.ts, claim-script.ts);
 * completions, failures and releases record in the farm's books first and then take BullMQ's
 * step (completions.ts, failures.ts, lease-holds.ts); the sweep finishes what BullMQ did not do
 * (sweep.ts, frame-settler.ts). This class only wires the parts. See docs/architecture.md.
 */
export class BullmqScheduler implements Scheduler {
  readonly queues: JobQueues;
  private readonly ctx: SchedulerContext;
  private readonly fill: FrameFill;
  private readonly reads: LeaseReads;
  private readonly known = new KnownLeases();
  private readonly holds: LeaseHolds;
  private readonly claims: Claims;
  private readonly completions: Completions;
  private readonly failures: Failures;
  private readonly video: VideoTask;
  private readonly requeue: JobRequeue;
  private readonly removal: JobRemoval;
  private readonly sweeper: Sweep;
  private readonly jobNeeds: JobNeedsBook;

  constructor(redis: Redis, keys: Keys, opts: BullmqSchedulerOptions, logger: Logger) {
    // No command of the scheduler is ever sent twice by the client (see connection.ts).
    failInFlightOnDisconnect(redis);
    this.queues = new JobQueues(
      redis,
      keys,
      { lockMs: opts.defaultLeaseMs, maxStalled: opts.maxStalled, stalledIntervalMs: opts.stalledIntervalMs },
      logger,
    );
    const ctx = new SchedulerContext(redis, keys, opts, logger, this.queues);
    this.ctx = ctx;
    const books = new FailureBooks(ctx);
    this.fill = new FrameFill(ctx);
    this.reads = new LeaseReads(ctx);
    this.holds = new LeaseHolds(ctx, this.reads);
    this.video = new VideoTask(ctx);
    const settler = new FrameSettler(ctx, this.reads, books);
    this.claims = new Claims(ctx, settler, this.holds, this.known);
    this.completions = new Completions(ctx, this.reads, this.video, this.known);
    this.failures = new Failures(ctx, books);
    this.requeue = new JobRequeue(ctx, this.video, opts.enqueueBatch ?? 2000);
    this.removal = new JobRemoval(ctx, this.fill);
    this.sweeper = new Sweep(ctx, settler, this.video, this.fill);
    this.jobNeeds = new JobNeedsBook(ctx);
  }

  onProgress(listener: ProgressListener): () => void {
    return this.ctx.onProgress(listener);
  }

  /**
   * Puts the job's first window of frames in line and makes it claimable; the claims materialise
   * the others as they go (frame-fill.ts, frame-window-script.ts).
   */
  enqueueJob(job: Job, frames: FrameList): Promise<void> {
    this.ctx.jobRecords.remember(job);
    return this.fill.enqueue(job, frames);
  }

  /** Resolves when this process's top-up of the job's frames (if any) has stopped. */
  filled(jobId: string): Promise<void> {
    return this.fill.filled(jobId);
  }

  setRunnable(jobId: string, runnable: boolean): Promise<void> {
    return this.ctx.setRunnable(jobId, runnable);
  }

  setNeeds(jobId: string, needs: Partial<JobNeeds>): Promise<void> {
    return this.jobNeeds.set(jobId, needs);
  }

  needs(jobId: string): Promise<JobNeeds | null> {
    return this.jobNeeds.get(jobId);
  }

  claim(req: ClaimRequest): Promise<Claimed | null> {
    return this.claims.claim(req);
  }

  getLease(leaseId: string): Promise<Lease | null> {
    return this.reads.getLease(leaseId);
  }

  claimedHere(leaseId: string, sessionId: string): Lease | null {
    return this.known.claimed(leaseId, sessionId);
  }

  sessionLeases(sessionId: string): Promise<Lease[]> {
    return this.reads.sessionLeases(sessionId);
  }

  jobLeases(jobId: string, page: { offset?: number; limit?: number } = {}): Promise<Lease[]> {
    return this.reads.jobLeases(jobId, page);
  }

  extend(leaseId: string, sessionId: string, leaseMs: number): Promise<boolean> {
    return this.holds.extend(leaseId, sessionId, leaseMs);
  }

  complete(lease: Lease, frames?: number[]): Promise<CompletionResult> {
    return this.completions.complete(lease, frames);
  }

  completeLate(leaseId: string, sessionId: string, frame: number): Promise<boolean> {
    return this.completions.completeLate(leaseId, sessionId, frame);
  }

  startVideoIfAny(jobId: string): Promise<boolean> {
    return this.video.startIfAny(jobId);
  }

  fail(lease: Lease, reason: string, frames?: number[]): Promise<FailureResult> {
    return this.failures.fail(lease, reason, frames);
  }

  release(leaseId: string, sessionId: string, state: "released" | "canceled" = "released"): Promise<void> {
    return this.holds.release(leaseId, sessionId, state);
  }

  giveBack(leaseId: string, sessionId: string): Promise<void> {
    return this.holds.giveBack(leaseId, sessionId);
  }

  releaseJob(jobId: string): Promise<number> {
    return this.holds.releaseJob(jobId);
  }

  probe(): Promise<void> {
    return this.claims.probe();
  }

  /** Frames of the job held under a lease now (BullMQ's active list). */
  activeFrameCount(jobId: string): Promise<number> {
    return this.ctx.redis.llen(this.ctx.keys.bull(jobId, "active"));
  }

  async failedFrameIndices(jobId: string): Promise<number[]> {
    const ids = await this.ctx.redis.zrange(this.ctx.keys.bull(jobId, "failed"), 0, -1);
    return ids.map(indexOfBullId).filter((i) => i >= 0);
  }

  requeueFrames(jobId: string, indices: number[]): Promise<void> {
    return this.requeue.requeueFrames(jobId, indices);
  }

  requeueVideo(jobId: string): Promise<boolean> {
    return this.video.requeue(jobId);
  }

  clearFailures(jobId: string): Promise<void> {
    return this.requeue.clearFailures(jobId);
  }

  removeJob(jobId: string): Promise<void> {
    this.ctx.jobRecords.forget(jobId);
    return this.removal.removeJob(jobId);
  }

  sweep(): Promise<void> {
    return this.sweeper.sweep();
  }

  async close(): Promise<void> {
    this.ctx.closing = true;
    await this.fill.close();
    await this.queues.close();
  }
}
