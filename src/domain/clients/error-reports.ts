import type { JobNeeds } from "../jobs/job.js";
import type { Capabilities } from "../scheduling/capabilities.js";
import type { Session } from "../sessions/session.js";
import type { BrokenFrames } from "./broken-frames.js";
import type { ClientSessions } from "./client-sessions.js";
import { chargeOf } from "./error-types.js";
import type { KnownJobs } from "./known-jobs.js";
import type { RenderClientDeps, RenderClientOptions } from "./render-client-options.js";

/** `error.php`: a client's error report, kept and turned into the task's log and the failure rules. */
export class ErrorReports {
  constructor(
    private readonly d: RenderClientDeps,
    private readonly opts: RenderClientOptions,
    private readonly clientSessions: ClientSessions,
    private readonly known: KnownJobs,
    private readonly broken: BrokenFrames,
  ) {}

  /**
   * An error report: kept (bounded); a frame the session holds is failed under the farm's failure
   * rules (or given back when the render was stopped by the user or the farm); memory and time
   * limits teach the job what it needs. Start-up logs (type 0) are only kept.
   */
  async reportError(
    cookie: string | undefined,
    p: { type: number; sheepitId?: number; frame?: number; renderSeconds?: number; memoryKb?: number; log: string },
  ): Promise<void> {
    const s = await this.clientSessions.session(cookie);
    const log = p.log.length > this.opts.errorLogMax ? p.log.slice(p.log.length - this.opts.errorLogMax) : p.log;
    await this.d.state.recordError(
      s.id,
      { time: new Date().toISOString(), type: p.type, job: p.sheepitId ?? null, frame: p.frame ?? null, log },
      this.opts.errorReportsKept,
    );
    if (p.type === 0 || p.sheepitId === undefined || p.frame === undefined) return;
    const held = await this.known.heldFrame(s, p.sheepitId, p.frame);
    if (!held) return;
    // The client's report is the task's log (`GET /api/tasks/{lease id}/log`), as a worker's would be.
    await this.d
      .taskLog(held.lease.id, `${errorLogHeader(s, p.type)}\n${log}${log.endsWith("\n") || log === "" ? "" : "\n"}`)
      .catch((err) => this.d.warn({ err, leaseId: held.lease.id }, "task log not written"));
    const charge = chargeOf(p.type);
    if (charge === "none") {
      await this.d.scheduler.release(held.lease.id, s.id);
      return;
    }
    if (charge === "session") {
      // Set-up errors describe the machine: the frame goes back uncharged (no failure list, no
      // TASK_FAIL_WORKERS, no blocklist); they count against the session as broken frames do.
      await this.d.scheduler.release(held.lease.id, s.id);
      await this.broken.countAgainst(s.id);
      return;
    }
    const needs = await this.neededAfter(held.job.id, s.caps, p);
    if (needs) await this.d.scheduler.setNeeds(held.job.id, needs);
    await this.d.work.fail(held.lease.id, s.id, `SheepIt client error ${p.type}`, [p.frame]);
  }

  /** Out of RAM (21), out of VRAM (13), render-time limit (23): the job needs more than this client has. */
  private async neededAfter(
    jobId: string,
    caps: Capabilities,
    p: { type: number; renderSeconds?: number; memoryKb?: number },
  ): Promise<Partial<JobNeeds> | null> {
    const current = await this.d.state.jobNeeds(jobId);
    if (p.type === 21) {
      const had = caps.ramKb ?? p.memoryKb;
      return had ? { ramKb: Math.max(current.ramKb, had + 1) } : null;
    }
    if (p.type === 13) return caps.vramBytes ? { vramBytes: Math.max(current.vramBytes, caps.vramBytes + 1) } : null;
    if (p.type === 23) {
      const had = caps.renderSecondsMax ?? p.renderSeconds;
      return had ? { renderSeconds: Math.max(current.renderSeconds, had + 1) } : null;
    }
    return null;
  }
}

/** The first line of a SheepIt error report in its task's log. */
function errorLogHeader(s: Session, type: number): string {
  return `${new Date().toISOString()} SheepIt client ${s.name} reported error type ${type}:`;
}
