import { FarmError } from "../errors.js";
import { runnableStatuses } from "../jobs/job.js";
import type { Lease } from "../scheduling/capabilities.js";
import type { Session } from "../sessions/session.js";
import type { ClientSessions } from "./client-sessions.js";
import { leasesToRenew } from "./kept-leases.js";
import type { KnownJobs } from "./known-jobs.js";
import type { RenderClientDeps, RenderClientOptions } from "./render-client-options.js";

/** `keepalive.php`: a client's sign of life while it renders; its leases are renewed. */
export class KeepAlives {
  constructor(
    private readonly d: RenderClientDeps,
    private readonly opts: RenderClientOptions,
    private readonly clientSessions: ClientSessions,
    private readonly known: KnownJobs,
  ) {}

  /**
   * The client is alive (and rendering `frame`, when given): its leases are renewed. `not-yours`
   * when the frame is no longer its own or its job was canceled: the client must stop.
   */
  async keepAlive(
    cookie: string | undefined,
    p: { sheepitId?: number; frame?: number; paused?: boolean },
  ): Promise<void> {
    const s = await this.clientSessions.session(cookie).catch(() => {
      throw new FarmError("not-yours", "no live session");
    });
    if (p.paused !== undefined) await this.d.sessions.update(s.id, { attrs: { ...s.attrs, paused: String(p.paused) } });
    const leases = await this.d.work.held(s.id);
    // The newest lease is the frame rendering now; older ones (background uploads) for a while only.
    await Promise.all(
      leasesToRenew(leases, this.opts.leaseMs, { newest: true }).map((l) =>
        this.d.work.extend(l.id, s.id, this.opts.leaseMs).catch(() => undefined),
      ),
    );
    if (p.sheepitId === undefined || p.frame === undefined) {
      await this.stillGoing(s, leases);
      return;
    }
    const held = await this.known.heldFrame(s, p.sheepitId, p.frame);
    if (!held) throw new FarmError("not-yours", `frame ${p.frame} of job ${p.sheepitId} is not yours any more`);
    if (!runnableStatuses.has(held.job.status) && held.job.status !== "paused") {
      throw new FarmError("not-yours", `job ${p.sheepitId} is ${held.job.status}`);
    }
  }

  /**
   * A keepalive that names no frame (2024 clients send `paused` only): the jobs of the session's
   * leases and the job it was last given a frame of must still run (or be completed), else
   * `not-yours`: the client stops its render, as for a named frame of a canceled job.
   */
  private async stillGoing(s: Session, leases: Lease[]): Promise<void> {
    const since = Date.now() - Math.max(this.opts.archiveAccessMs, this.opts.leaseMs);
    const latest = await this.d.state.recentJobs(s.id, since, 1);
    for (const jobId of new Set([...leases.map((l) => l.jobId), ...latest])) {
      const job = await this.d.jobStore.get(jobId);
      // A completed job stops nobody: an idle client whose last job completed is not rendering.
      if (!job || (!runnableStatuses.has(job.status) && job.status !== "paused" && job.status !== "completed")) {
        throw new FarmError("not-yours", `the session's job ${job?.sheepitId ?? jobId} is ${job?.status ?? "gone"}`);
      }
    }
  }
}
