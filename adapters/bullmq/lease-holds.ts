import { bullIds } from "./frame-ids.js";
import type { LeaseReads } from "./lease-reads.js";
import { recordRelease } from "./lease-scripts.js";
import type { SchedulerContext } from "./scheduler-context.js";

/** How long a give-back that Redis did not answer is tried again (each second) before it is left to the lease's end. */
const GIVE_BACK_RETRY_MS = 10 * 60_000;
const GIVE_BACK_EVERY_MS = 1_000;

/** Keeps a lease alive (`extend`) or gives it back (`release`, `giveBack`, `releaseJob`). */
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

  /**
   * Gives back a lease whose caller never heard of it (its answer was lost or never sent), and
   * never throws. When Redis does not answer, it is tried again each second in the background
   * until it is done: the session may go on making requests, each of which extends what it holds,
   * so a lease left behind here would never run out. Safe to repeat: `release` checks the lease
   * is still active and the session's own.
   */
  async giveBack(leaseId: string, sessionId: string): Promise<void> {
    if (await this.tryRelease(leaseId, sessionId)) return;
    void this.giveBackLater(leaseId, sessionId);
  }

  private async tryRelease(leaseId: string, sessionId: string): Promise<boolean> {
    try {
      await this.release(leaseId, sessionId);
      return true;
    } catch {
      return false;
    }
  }

  private async giveBackLater(leaseId: string, sessionId: string): Promise<void> {
    const until = Date.now() + GIVE_BACK_RETRY_MS;
    while (!this.ctx.closing && Date.now() < until) {
      await new Promise((r) => setTimeout(r, GIVE_BACK_EVERY_MS).unref());
      if (this.ctx.closing) return;
      if (await this.tryRelease(leaseId, sessionId)) {
        this.ctx.logger.info({ leaseId, sessionId }, "a lease whose answer was lost was given back");
        return;
      }
    }
    if (!this.ctx.closing) this.ctx.logger.warn({ leaseId, sessionId }, "could not give back a lease; it runs out");
  }

  async releaseJob(jobId: string): Promise<number> {
    const leases = (await this.reads.jobLeases(jobId)).filter((l) => l.state === "active");
    for (const l of leases) await this.release(l.id, l.sessionId, "canceled");
    return leases.length;
  }
}
