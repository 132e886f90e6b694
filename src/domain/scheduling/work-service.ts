import { FarmError } from "../errors.js";
import { type FarmEvents, noFarmEvents } from "../events.js";
import type { Job } from "../jobs/job.js";
import type { JobService } from "../jobs/job-service.js";
import type { ClaimRequest, CompletionResult, FailureResult, Lease } from "./capabilities.js";
import type { Scheduler } from "./scheduler.js";

/** A claimed lease with the job it belongs to. */
export interface Assignment {
  lease: Lease;
  job: Job;
}

/**
 * The verbs both protocols use to render: claim work, keep it, finish it, fail it, give it back.
 * Job status follows every change (JobService.rollUp).
 */
export class WorkService {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly jobs: JobService,
    /** Where changes are told to live views (the dashboard); frame counts for throughput. */
    private readonly events: FarmEvents = noFarmEvents,
  ) {}

  /** Claims up to `maxFrames` consecutive frames (or a video task) that the session can do. */
  async claim(req: ClaimRequest): Promise<Assignment | null> {
    const claimed = await this.scheduler.claim(req);
    if (!claimed) return null;
    const { lease } = claimed;
    let job: Assignment["job"];
    try {
      job = claimed.job ?? (await this.jobs.get(lease.jobId));
      // Sent before the events, so both travel together (no round trip of its own).
      const noted = this.jobs.noteWorkOut(job);
      this.events.publish({ type: "job", jobId: lease.jobId, frames: [{ state: "a", indices: lease.indices }] });
      this.events.publish({ type: "client", sessionId: req.caps.sessionId });
      await noted;
    } catch (err) {
      // The caller never hears of this lease: give it back rather than leave it to run out (or,
      // for a client whose every request extends what it holds, to be kept forever).
      await this.scheduler.giveBack(lease.id, lease.sessionId);
      throw err;
    }
    return { lease, job };
  }

  /** Leases the session holds now. */
  held(sessionId: string): Promise<Lease[]> {
    return this.scheduler.sessionLeases(sessionId);
  }

  /** The lease, owned by `sessionId`; `not-found` or `not-yours` otherwise. */
  async owned(leaseId: string, sessionId: string): Promise<Lease> {
    const lease = await this.scheduler.getLease(leaseId);
    if (!lease) throw new FarmError("not-found", `no task ${leaseId}`);
    if (lease.sessionId !== sessionId || lease.state !== "active") {
      throw new FarmError("not-yours", `task ${leaseId} is not assigned to you`);
    }
    return lease;
  }

  lease(leaseId: string): Promise<Lease | null> {
    return this.scheduler.getLease(leaseId);
  }

  /** Extends the lease; `not-yours` when it ran out and its frames went to someone else. */
  async extend(leaseId: string, sessionId: string, leaseMs: number): Promise<void> {
    if (!(await this.scheduler.extend(leaseId, sessionId, leaseMs))) {
      throw new FarmError("not-yours", `task ${leaseId} is no longer assigned to you`);
    }
  }

  async complete(leaseId: string, sessionId: string, frames?: number[]): Promise<CompletionResult> {
    // A lease claimed by this process needs no read: the completion checks it is still held.
    const lease = this.scheduler.claimedHere(leaseId, sessionId) ?? (await this.owned(leaseId, sessionId));
    const res = await this.scheduler.complete(lease, frames);
    if (res.notHeld === "not-found") throw new FarmError("not-found", `no task ${leaseId}`);
    if (res.notHeld) throw new FarmError("not-yours", `task ${leaseId} is not assigned to you`);
    if (lease.phase === "render") this.events.countFrames(lease.jobId, sessionId, res.completed.length, 0);
    await this.jobs.rollUp(lease.jobId, [{ state: "d", indices: indicesOf(lease, res.completed) }], res.job);
    this.events.publish({ type: "client", sessionId });
    return res;
  }

  /** A frame delivered after its lease ran out: completed when nobody else holds or finished it. */
  async completeLate(leaseId: string, sessionId: string, frame: number): Promise<boolean> {
    const before = await this.scheduler.getLease(leaseId);
    // The frame may be back in line (not out): the job is noted before it can be done by it.
    if (before) await this.jobs.noteWorkFinishing(before.jobId);
    const done = await this.scheduler.completeLate(leaseId, sessionId, frame);
    const lease = done ? before : null;
    if (lease) {
      this.events.countFrames(lease.jobId, sessionId, 1, 0);
      await this.jobs.rollUp(lease.jobId, [{ state: "d", indices: indicesOf(lease, [frame]) }]);
    }
    return done;
  }

  async fail(leaseId: string, sessionId: string, reason: string, frames?: number[]): Promise<FailureResult> {
    const lease = await this.owned(leaseId, sessionId);
    const res = await this.scheduler.fail(lease, reason, frames);
    if (lease.phase === "render") {
      this.events.countFrames(lease.jobId, sessionId, 0, res.failed.length + res.retried.length);
    }
    await this.jobs.rollUp(lease.jobId, [
      { state: "r", indices: indicesOf(lease, res.retried) },
      { state: "f", indices: indicesOf(lease, res.failed) },
    ]);
    this.events.publish({ type: "client", sessionId });
    return res;
  }

  /** Puts one lease's frames back in line without counting a failure (`canceled`: an operator stopped it). */
  async release(leaseId: string, sessionId: string, state: "released" | "canceled" = "released"): Promise<void> {
    await this.scheduler.release(leaseId, sessionId, state);
    const lease = await this.scheduler.getLease(leaseId);
    if (lease) this.events.publish({ type: "job", jobId: lease.jobId });
    this.events.publish({ type: "client", sessionId });
  }

  /** Puts everything the session holds back in line (sign-off, logout, timeout). */
  async releaseAll(sessionId: string): Promise<number> {
    const leases = await this.scheduler.sessionLeases(sessionId);
    for (const l of leases) await this.scheduler.release(l.id, sessionId);
    for (const jobId of new Set(leases.map((l) => l.jobId))) this.events.publish({ type: "job", jobId });
    if (leases.length > 0) this.events.publish({ type: "client", sessionId });
    return leases.length;
  }
}

/** The frame-list indices of some of the lease's frame numbers (a video lease has none). */
function indicesOf(lease: Lease, frames: number[]): number[] {
  const wanted = new Set(frames);
  return lease.indices.filter((_, k) => wanted.has(lease.frames[k] as number));
}
