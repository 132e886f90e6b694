import type { Job, JobStatus } from "../jobs/job.js";
import { finalStatuses } from "../jobs/job.js";
import { SIMPLE_BLENDER_RENDER } from "../jobs/job-types.js";
import type { Capabilities, Lease } from "../scheduling/capabilities.js";
import { AssignmentRecords } from "./assignment-records.js";
import { blenderScript } from "./blender-script.js";
import { reason } from "./client-errors.js";
import type { ClientSessions } from "./client-sessions.js";
import type { FarmStats, FarmStatsCache } from "./farm-stats.js";
import { padFrame } from "./frame-text.js";
import { signFrameToken } from "./frame-token.js";
import { leasesToRenew } from "./kept-leases.js";
import type { JobArchive, Renderer } from "./ports.js";
import type { RenderClientDeps, RenderClientOptions } from "./render-client-options.js";

/** What a SheepIt client sends to `request-job.php`. */
export interface FrameRequest {
  /** 0 CPU or GPU, 1 CPU only, 2 GPU only. */
  computeMethod: 0 | 1 | 2;
  cores?: number;
  ramKb?: number;
  /** Seconds; 0 or negative for no limit. */
  renderSecondsMax?: number;
  gpuType?: string;
  gpuModel?: string;
  vramBytes?: number;
  /** MD5s of the job archives the client holds. */
  cached: string[];
  /** Requests in flight in this gateway (the load measure). */
  load: number;
  /**
   * The base URL this client reached the gateway at (PUBLIC_URL when set): the validation URL is
   * built on it, so each client gets URLs from its own request only.
   */
  baseUrl: string;
}

export interface GivenFrame {
  sheepitId: number;
  frame: number;
  /** The frame as Blender writes it: zero-padded to four digits. */
  frameText: string;
  job: Job;
  lease: Lease;
  archive: JobArchive;
  renderer: Renderer;
  useGpu: boolean;
  validationUrl: string;
  script: string;
}

export interface FrameAnswer {
  frame: GivenFrame | null;
  stats: FarmStats;
  /** Cached archives of finished jobs the client may delete. */
  deleteArchives: string[];
}

/**
 * `request-job.php`: a frame for the client, a lease of one frame (`WorkService.claim` with the
 * session's capabilities), with its archive, renderer and signed validation URL.
 */
export class FrameRequests {
  private readonly assignments: AssignmentRecords;

  constructor(
    private readonly d: RenderClientDeps,
    private readonly opts: RenderClientOptions,
    private readonly clientSessions: ClientSessions,
    private readonly farmStats: FarmStatsCache,
  ) {
    // A tenth of the archive access time (6 minutes of the default hour): access to a job's
    // archive ends at most that much early after its last frame.
    this.assignments = new AssignmentRecords(d.state, opts.archiveAccessMs / 10);
  }

  /**
   * A frame for the session (null when nothing fits), with the farm's figures and the cached
   * archives the client may delete; the session's other leases are renewed.
   */
  async requestFrame(cookie: string | undefined, req: FrameRequest): Promise<FrameAnswer> {
    const s = await this.clientSessions.session(cookie);
    // Reads that need only the session are sent together (pipelined: one round trip, not four);
    // they are read-only, and nothing is written before the checks below, made in the same order.
    const userRead = this.clientSessions.activeUser(s);
    const rendererRead = this.d.renderers.find(s.attrs.os ?? "", s.attrs.bits ?? "");
    const heldRead = this.d.work.held(s.id);
    const archivesRead = this.finishedArchives(req.cached);
    // Whichever check throws first, the other reads' failures are not left unhandled.
    for (const p of [rendererRead, heldRead, archivesRead]) p.catch(() => undefined);
    const user = await userRead;
    if (!user.canRender) throw reason("forbidden", `user ${user.login} may not render`, "no-right");
    if (this.opts.maintenance) throw reason("unavailable", "the farm is in maintenance", "maintenance");
    if (this.opts.overloadThreshold > 0 && req.load >= this.opts.overloadThreshold) {
      throw reason("unavailable", "the gateway is overloaded", "overloaded");
    }
    const renderer = await rendererRead;
    if (!renderer) throw reason("not-found", `no renderer for ${s.attrs.os} ${s.attrs.bits}`, "no-renderer");

    const caps = capabilitiesOf(s.id, req);
    const held = await heldRead;
    await Promise.all([
      // Clients ask with the same capabilities again and again: written only when they change.
      JSON.stringify(caps) !== JSON.stringify(s.caps) ? this.d.sessions.update(s.id, { caps }) : undefined,
      // Frames rendered and waiting for their background upload keep their leases, for a while.
      ...leasesToRenew(held, this.opts.leaseMs).map((l) =>
        this.d.work.extend(l.id, s.id, this.opts.leaseMs).catch(() => undefined),
      ),
    ]);
    const deleteArchives = await archivesRead;
    const claimed = this.d.work.claim({ caps, maxFrames: 1, leaseMs: this.opts.leaseMs });
    const [assignment, stats] = await Promise.all([
      claimed,
      this.farmStats.forSession(s, user).catch(async (err) => {
        // No answer goes out: a frame claimed meanwhile goes back.
        const a = await claimed.catch(() => null);
        if (a) await this.d.scheduler.giveBack(a.lease.id, s.id);
        throw err;
      }),
    ]);
    if (!assignment) return { frame: null, stats, deleteArchives };

    const { lease, job } = assignment;
    // A claim whose answer fails on the way (Redis went away just after it) is given back, or the
    // client, which never heard of it, would keep it alive with every request.
    try {
      const frame = lease.frames[0];
      if (lease.phase !== "render" || job.type !== SIMPLE_BLENDER_RENDER || frame === undefined) {
        await this.d.scheduler.release(lease.id, s.id);
        return { frame: null, stats, deleteArchives };
      }
      let archive: JobArchive | null = null;
      try {
        archive = await this.d.archives.forJob(job);
      } catch (err) {
        this.d.warn({ err, jobId: job.id }, "job archive unavailable; frame given back");
      }
      if (!archive) {
        await this.d.scheduler.release(lease.id, s.id);
        return { frame: null, stats, deleteArchives };
      }
      await this.assignments.record(s.id, job.id);
      const useGpu = caps.device === "gpu" || (caps.device === "any" && job.needs.device !== "cpu");
      const frameText = padFrame(frame);
      const token = signFrameToken(await this.d.state.secret(), {
        sessionId: s.id,
        jobId: job.id,
        frame,
        leaseId: lease.id,
      });
      const query = `job=${job.sheepitId}&frame=${frameText}&token=${encodeURIComponent(token)}`;
      return {
        frame: {
          sheepitId: job.sheepitId,
          frame,
          frameText,
          job,
          lease,
          archive,
          renderer,
          useGpu,
          validationUrl: `${req.baseUrl.replace(/\/+$/, "")}${this.opts.validationPath}?${query}`,
          script: blenderScript({ format: String(job.settings.format ?? "PNG"), useGpu }),
        },
        stats,
        deleteArchives,
      };
    } catch (err) {
      await this.d.scheduler.giveBack(lease.id, s.id);
      throw err;
    }
  }

  /** Of the archives a client holds, those whose jobs are finished or gone. */
  private async finishedArchives(md5s: string[]): Promise<string[]> {
    const wanted = [...new Set(md5s.map((m) => m.toLowerCase()))].slice(0, 1000);
    if (wanted.length === 0) return [];
    // The jobs and their statuses in one read.
    const jobs = await this.d.state.archiveJobs(wanted);
    return wanted.filter((_, i) => {
      const job = jobs[i];
      if (!job) return false;
      return job.status === null || finalStatuses.has(job.status as JobStatus) || job.status === "archived";
    });
  }
}

function capabilitiesOf(sessionId: string, req: FrameRequest): Capabilities {
  const hasGpu = Boolean(req.gpuType) || (req.vramBytes ?? 0) > 0;
  const device = req.computeMethod === 1 ? "cpu" : req.computeMethod === 2 ? "gpu" : hasGpu ? "any" : "cpu";
  return {
    sessionId,
    taskTypes: ["blender"],
    device,
    ...(req.ramKb && req.ramKb > 0 ? { ramKb: req.ramKb } : {}),
    ...(device !== "cpu" && req.vramBytes && req.vramBytes > 0 ? { vramBytes: req.vramBytes } : {}),
    ...(req.renderSecondsMax && req.renderSecondsMax > 0 ? { renderSecondsMax: req.renderSecondsMax } : {}),
  };
}
