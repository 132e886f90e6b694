import { bullIds } from "./frame-ids.js";
import type { LeaseReads } from "./lease-reads.js";
import { recordRelease } from "./lease-scripts.js";
import type { SchedulerContext } from "./scheduler-context.js";

/** Keeps a lease alive (`extend`) or gives it back (`release`, `releaseJob`). */
export class LeaseHolds {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly reads: LeaseReads,
  ) {}

  async extend(leaseId: string, sessionId: string, leaseMs: number): Promise<boolean> {
    const lease = await this.reads.getLease(leaseId);
    if (!lease || lease.sessionId !== sessionId) return false;
    const ids = bullIds(lease);
    const failed = await this.ctx.queues.extendLocks(
      lease.jobId,
      ids,
      ids.map(() => leaseId),
      leaseMs,
    );
    if (failed.length === ids.length) return false;
    await this.ctx.redis.hset(this.ctx.keys.lease(leaseId), "updated", new Date().toISOString());
    return true;
  }

  /** Closes the lease first (`recordRelease`), then puts its frames back in line in BullMQ. */
  async release(leaseId: string, sessionId: string, state: "released" | "canceled" = "released"): Promise<void> {
    const { redis, keys } = this.ctx;
    const lease = await this.reads.getLease(leaseId);
    if (!lease || lease.sessionId !== sessionId || lease.state !== "active") return;
    await recordRelease.run(
      redis,
      [keys.frameStates(lease.jobId), keys.lease(leaseId), keys.sessionLeases(sessionId), keys.job(lease.jobId)],
      [leaseId, new Date().toISOString(), lease.phase, state, ...lease.indices],
    );
    await Promise.all(
      bullIds(lease).map((id) => this.ctx.queues.backToWait(lease.jobId, id, leaseId).catch(() => undefined)),
    );
    await this.ctx.markReady(lease.jobId);
  }

  async releaseJob(jobId: string): Promise<number> {
    const leases = (await this.reads.jobLeases(jobId)).filter((l) => l.state === "active");
    for (const l of leases) await this.release(l.id, l.sessionId, "canceled");
    return leases.length;
  }
}
