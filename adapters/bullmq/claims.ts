import { randomUUID } from "node:crypto";
import type { ClaimRequest, Lease } from "../../src/domain/scheduling/capabilities.js";
import type { Claimed } from "../../src/domain/scheduling/scheduler.js";
import { claimWork } from "./claim-script.js";
import { frameWindowOf } from "./frame-fill.js";
import type { FrameSettler } from "./frame-settler.js";
import type { KnownLeases } from "./known-leases.js";
import type { LeaseHolds } from "./lease-holds.js";
import type { SchedulerContext } from "./scheduler-context.js";

/**
 * A claim: one atomic script (`claimWork`, adapters/bullmq/claim-script.ts) picks the job, takes
 * the frames from its BullMQ queue, locks them under the lease id and records the lease: one round
 * trip, whatever the number of jobs. Frames the script set aside (stalled too often, or already
 * finished in the farm's books) are settled in BullMQ here, and the claim is tried again.
 */
export class Claims {
  private readonly candidates: number;
  private readonly scanLimit: number;
  private readonly window: number;

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly settler: FrameSettler,
    private readonly holds: LeaseHolds,
    private readonly known: KnownLeases,
  ) {
    this.candidates = ctx.opts.candidates ?? 3;
    this.scanLimit = ctx.opts.scanLimit ?? 256;
    this.window = frameWindowOf(ctx);
  }

  async claim(req: ClaimRequest): Promise<Claimed | null> {
    for (let round = 0; round < 3; round++) {
      const got = await this.claimOnce(req);
      if (got !== "again") return got;
    }
    return null;
  }

  /** Runs the claim script with nothing to try: proves Redis runs the farm's scripts (readiness). */
  async probe(): Promise<void> {
    const { keys } = this.ctx;
    await claimWork.run(
      this.ctx.redis,
      [keys.ready(), keys.runnable(), keys.served(), keys.servedRank(), keys.engaged(), keys.sessionLeases("probe")],
      [keys.root, "probe", "", "any", -1, -1, -1, 0, 1, "probe", Date.now(), "", 1000, 0, 0, 1, ""],
    );
  }

  private async claimOnce(req: ClaimRequest): Promise<Claimed | null | "again"> {
    const { keys } = this.ctx;
    const { caps } = req;
    const leaseId = randomUUID();
    const now = new Date();
    let raw: unknown[];
    try {
      raw = await claimWork.run<unknown[]>(
        this.ctx.redis,
        [
          keys.ready(),
          keys.runnable(),
          keys.served(),
          keys.servedRank(),
          keys.engaged(),
          keys.sessionLeases(caps.sessionId),
        ],
        [
          keys.root,
          caps.sessionId,
          caps.taskTypes.join(","),
          caps.device,
          caps.ramKb ?? -1,
          caps.vramBytes ?? -1,
          caps.renderSecondsMax ?? -1,
          this.candidates,
          req.maxFrames === "job-chunk" ? 0 : Math.max(1, req.maxFrames),
          leaseId,
          now.getTime(),
          now.toISOString(),
          req.leaseMs,
          this.scanLimit,
          this.window,
          this.ctx.opts.taskFailWorkers,
          req.log ?? "",
        ],
      );
    } catch (err) {
      // The answer was lost (Redis went away): the lease may or may not be recorded. Give it back
      // (again and again until Redis answers), or a SheepIt client, which never heard of it,
      // would keep it alive with every request.
      await this.holds.giveBack(leaseId, caps.sessionId);
      throw err;
    }
    const found = Number(raw[0]) === 1;
    const aside = ((found ? raw[7] : raw[1]) ?? []) as string[];
    if (aside.length > 0) await this.settler.settleAside(`${leaseId}:x`, aside);
    if (!found) return aside.length > 0 ? "again" : null;
    const list = (v: unknown) =>
      String(v ?? "")
        .split(",")
        .filter(Boolean)
        .map(Number);
    const lease: Lease = {
      id: leaseId,
      jobId: String(raw[1]),
      sessionId: caps.sessionId,
      phase: raw[2] === "video" ? "video" : "render",
      frames: list(raw[4]),
      indices: list(raw[5]),
      taskType: String(raw[3] ?? "blender"),
      created: now.toISOString(),
      updated: now.toISOString(),
      leaseMs: req.leaseMs,
      state: "active",
      attempt: Number(raw[6]),
    };
    this.known.remember(lease);
    return { lease, job: await this.ctx.jobRecords.fromLive(lease.jobId, raw[8], raw[9]) };
  }
}
