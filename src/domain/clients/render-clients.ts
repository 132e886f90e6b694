import type { AccountService, User } from "../accounts/accounts.js";
import { FarmError } from "../errors.js";
import type { FrameList } from "../jobs/frame-range.js";
import { finalStatuses, type Job, type JobNeeds, runnableStatuses } from "../jobs/job.js";
import type { JobStore } from "../jobs/job-store.js";
import { SIMPLE_BLENDER_RENDER } from "../jobs/job-types.js";
import { checkedImageFor } from "../jobs/output-formats.js";
import { frameOutputPath } from "../jobs/output-path.js";
import type { Capabilities, Lease } from "../scheduling/capabilities.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import type { WorkService } from "../scheduling/work-service.js";
import { randomToken, sha256Hex } from "../secrets.js";
import type { Session, SessionStore } from "../sessions/session.js";
import type { FarmStorage } from "../storage.js";
import { type BlackFrameStore, blackVerdict } from "./black-frame-check.js";
import { blenderFileFormat, blenderScript } from "./blender-script.js";
import { chargeOf } from "./error-types.js";
import { signFrameToken, verifyFrameToken } from "./frame-token.js";
import { earlierSessionsOf } from "./machine-sessions.js";
import type { FrameFiles, JobArchive, JobArchives, RenderClientStore, Renderer, RendererCatalog } from "./ports.js";

/**
 * Render clients that take one frame at a time and upload the image (SheepIt clients): sign in,
 * ask for a frame, keep it, send it back or report an error, sign out. The rules of the farm for
 * them live here; adapters/sheepit/ only translates the wire.
 */

export interface RenderClientOptions {
  /** Lease of a frame; renewed by every request of the client. */
  leaseMs: number;
  /** A session unseen this long is dead (its frames go back in line). */
  sessionTimeoutMs: number;
  maintenance: boolean;
  /** Requests in flight at which the farm says it is overloaded (0: never). */
  overloadThreshold: number;
  minClientVersion: string;
  /** Broken frames in a row that disable a session. */
  brokenFrameLimit: number;
  /** How long after being given a frame a session may still download the job's archive. */
  archiveAccessMs: number;
  validationPath: string;
  errorReportsKept: number;
  errorLogMax: number;
}

export interface RenderClientDeps {
  accounts: AccountService;
  sessions: SessionStore;
  work: WorkService;
  scheduler: Pick<Scheduler, "release" | "setNeeds">;
  jobStore: JobStore;
  storage: FarmStorage;
  renderers: RendererCatalog;
  archives: JobArchives;
  frames: FrameFiles;
  state: RenderClientStore;
  blackFrames: BlackFrameStore;
  /** Appends to a task's log (the lease's, as Flamenco task logs: `GET /api/tasks/{id}/log`). */
  taskLog: (leaseId: string, text: string) => Promise<void>;
  warn: (obj: Record<string, unknown>, msg: string) => void;
}

export interface SignIn {
  login: string;
  password: string;
  version: string;
  os: string;
  bits: string;
  hostname?: string;
  hwid?: string;
  ui?: string;
  cores?: number;
  ramKb?: number;
  address: string;
}

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

export interface FarmStats {
  sessionCredits: number;
  totalCredits: number;
  framesRemaining: number;
  jobsWaiting: number;
  connectedClients: number;
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

export interface UploadTicket {
  session: Session;
  job: Job;
  frame: number;
  /** The frame's place in the job's frame list. */
  index: number;
  leaseId: string;
  /** Where the frame lands. */
  target: string;
  /** The frame was accepted before: answer success, change nothing. */
  alreadyDone: boolean;
}

/** The frame number as Blender writes it into file names: at least four digits. */
export function padFrame(frame: number): string {
  const sign = frame < 0 ? "-" : "";
  return sign + String(Math.abs(frame)).padStart(4 - sign.length, "0");
}

/** Compares dotted versions numerically (`3.3.1762` < `3.10.0`); non-numeric parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-_]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.\-_]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** The session id behind a cookie: its hash, so the cookie itself is stored nowhere. */
export function sessionIdOf(cookie: string): string {
  return sha256Hex(`session|${cookie}`).slice(0, 32);
}

/** Points for an accepted frame: one per started minute of render time, at least one. */
export function pointsFor(renderSeconds: number): number {
  return Math.max(1, Math.ceil(renderSeconds / 60));
}

const reason = (kind: FarmError["kind"], message: string, why: string) => new FarmError(kind, message, { reason: why });
const sessionDead = () => reason("unauthenticated", "no live session; log in again", "session-dead");
const sessionDisabled = () => reason("forbidden", "this session is disabled", "session-disabled");

/** Jobs whose SheepIt id and frame list are kept in memory (each map is emptied when full). */
const JOBS_KEPT = 1_000;

export class RenderClientService {
  /**
   * A job's SheepIt id and its frame list never change while the job exists (ids are never
   * reused): kept in memory once read. A deleted job is still caught where it matters, by reading
   * the job itself (null).
   */
  private readonly jobIds = new Map<number, string>();
  private readonly frameLists = new Map<string, FrameList>();
  private statsCache:
    | { at: number; value: { framesRemaining: number; jobsWaiting: number; connected: number } }
    | undefined;

  constructor(
    private readonly d: RenderClientDeps,
    private readonly opts: RenderClientOptions,
  ) {}

  // ---- sessions -------------------------------------------------------------------------------

  /** Checks the client and the credentials and opens a session; answers its cookie and render key. */
  async signIn(p: SignIn): Promise<{ cookie: string; session: Session; renderKey: string }> {
    if (compareVersions(p.version, this.opts.minClientVersion) < 0) {
      throw reason(
        "forbidden",
        `client version ${p.version} is older than ${this.opts.minClientVersion}`,
        "client-too-old",
      );
    }
    const hwid = p.hwid?.trim();
    const machine = hwid && hwid !== "unknown" ? `hwid:${hwid}` : p.hostname ? `host:${p.hostname}` : "unknown";
    const { user, renderKey } = await this.d.accounts.authenticate({
      login: p.login,
      password: p.password,
      machine,
      address: p.address,
    });
    const cookie = randomToken();
    const id = sessionIdOf(cookie);
    const now = Date.now();
    const session: Session = {
      id,
      protocol: "sheepit",
      name: `${user.login}@${p.hostname || "unknown"}`,
      status: "awake",
      caps: { sessionId: id, taskTypes: ["blender"], device: "any", ...(p.ramKb ? { ramKb: p.ramKb } : {}) },
      created: new Date(now).toISOString(),
      lastSeen: now,
      attrs: {
        login: user.login,
        machine,
        os: p.os.toLowerCase(),
        bits: p.bits.toLowerCase(),
        version: p.version,
        hostname: p.hostname ?? "",
        address: p.address,
        ui: p.ui ?? "",
        cores: String(p.cores ?? ""),
        paused: "false",
      },
    };
    await this.d.sessions.put(session);
    // A restarted machine: its old sessions end now and their frames go back in line at once.
    const same = { login: user.login, machine, hostname: p.hostname ?? "" };
    for (const old of earlierSessionsOf(same, await this.d.sessions.list("sheepit"), id)) await this.endSession(old.id);
    return { cookie, session, renderKey };
  }

  /** The live session behind a cookie (touched); `unauthenticated` (reason session-dead) otherwise. */
  async session(cookie: string | undefined): Promise<Session> {
    if (!cookie) throw sessionDead();
    const found = await this.d.sessions.getFresh(sessionIdOf(cookie), Date.now() - this.opts.sessionTimeoutMs);
    if (!found?.fresh || found.session.protocol !== "sheepit") throw sessionDead();
    return found.session;
  }

  private async activeUser(s: Session): Promise<User> {
    const user = await this.d.accounts.get(s.attrs.login ?? "").catch(() => null);
    if (s.status === "disabled" || !user || user.disabled) throw sessionDisabled();
    return user;
  }

  /** Ends the session: its frames go back in line at once. Unknown cookies are ignored. */
  async signOut(cookie: string | undefined): Promise<void> {
    if (!cookie) return;
    await this.endSession(sessionIdOf(cookie));
  }

  /** Ends the session (signed out, timed out, or by an operator from the dashboard). */
  async endSession(sessionId: string): Promise<void> {
    const s = await this.d.sessions.get(sessionId);
    if (!s || s.protocol !== "sheepit") return;
    await this.d.work.releaseAll(sessionId);
    await this.d.sessions.delete(sessionId);
    await this.d.state.forgetSession(sessionId);
  }

  /** Ends sessions unseen for longer than the session timeout (periodic). */
  async sweep(): Promise<number> {
    const ids = await this.d.sessions.unseenSince(Date.now() - this.opts.sessionTimeoutMs);
    let n = 0;
    for (const id of ids) {
      const s = await this.d.sessions.get(id);
      if (s?.protocol !== "sheepit") continue;
      await this.endSession(id);
      n++;
    }
    return n;
  }

  // ---- frames out -----------------------------------------------------------------------------

  async requestFrame(cookie: string | undefined, req: FrameRequest): Promise<FrameAnswer> {
    const s = await this.session(cookie);
    const user = await this.activeUser(s);
    if (!user.canRender) throw reason("forbidden", `user ${user.login} may not render`, "no-right");
    if (this.opts.maintenance) throw reason("unavailable", "the farm is in maintenance", "maintenance");
    if (this.opts.overloadThreshold > 0 && req.load >= this.opts.overloadThreshold) {
      throw reason("unavailable", "the gateway is overloaded", "overloaded");
    }
    const renderer = await this.d.renderers.find(s.attrs.os ?? "", s.attrs.bits ?? "");
    if (!renderer) throw reason("not-found", `no renderer for ${s.attrs.os} ${s.attrs.bits}`, "no-renderer");

    const caps = capabilitiesOf(s.id, req);
    // Clients ask with the same capabilities again and again: written only when they change.
    if (JSON.stringify(caps) !== JSON.stringify(s.caps)) await this.d.sessions.update(s.id, { caps });
    // Frames rendered and waiting for their background upload keep their leases.
    for (const l of await this.d.work.held(s.id)) {
      await this.d.work.extend(l.id, s.id, this.opts.leaseMs).catch(() => undefined);
    }
    const deleteArchives = await this.finishedArchives(req.cached);
    const claimed = this.d.work.claim({ caps, maxFrames: 1, leaseMs: this.opts.leaseMs });
    const [assignment, stats] = await Promise.all([
      claimed,
      this.stats(s, user).catch(async (err) => {
        // No answer goes out: a frame claimed meanwhile goes back.
        const a = await claimed.catch(() => null);
        if (a) await this.d.scheduler.release(a.lease.id, s.id).catch(() => undefined);
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
      await this.d.state.recordAssignment(s.id, job.id);
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
      await this.d.scheduler.release(lease.id, s.id).catch(() => undefined);
      throw err;
    }
  }

  /** Of the archives a client holds, those whose jobs are finished or gone. */
  private async finishedArchives(md5s: string[]): Promise<string[]> {
    const wanted = [...new Set(md5s.map((m) => m.toLowerCase()))].slice(0, 1000);
    if (wanted.length === 0) return [];
    const jobIds = await this.d.state.jobsOfArchives(wanted);
    // The job records are read together (one round trip on the wire), not one after the other.
    const jobs = await Promise.all(jobIds.map((id) => (id ? this.d.jobStore.get(id) : undefined)));
    return wanted.filter((_, i) => {
      if (!jobIds[i]) return false;
      const job = jobs[i];
      return !job || finalStatuses.has(job.status) || job.status === "archived";
    });
  }

  private async stats(s: Session, user: User): Promise<FarmStats> {
    const now = Date.now();
    if (!this.statsCache || now - this.statsCache.at > 1000) {
      this.statsCache = { at: now, value: await this.d.state.farmStats(now - this.opts.sessionTimeoutMs) };
    }
    return {
      sessionCredits: await this.d.state.sessionCredits(s.id),
      totalCredits: user.points,
      framesRemaining: this.statsCache.value.framesRemaining,
      jobsWaiting: this.statsCache.value.jobsWaiting,
      connectedClients: this.statsCache.value.connected,
    };
  }

  /** The file behind `archive.php`: a job's archive or the renderer, for sessions given a frame of the job. */
  async archiveFile(
    cookie: string | undefined,
    type: "job" | "binary",
    sheepitId: number,
  ): Promise<{ file: string; size: number; md5: string }> {
    const notFound = () => new FarmError("not-found", "no such archive for this session");
    const s = await this.session(cookie).catch(() => {
      throw notFound();
    });
    const jobId = await this.d.jobStore.idForSheepitId(sheepitId);
    if (!jobId) throw notFound();
    const last = await this.d.state.lastAssignment(s.id, jobId);
    const recent = last !== null && Date.now() - last <= Math.max(this.opts.archiveAccessMs, this.opts.leaseMs);
    if (!recent && !(await this.d.work.held(s.id)).some((l) => l.jobId === jobId)) throw notFound();
    if (type === "binary") {
      const r = await this.d.renderers.find(s.attrs.os ?? "", s.attrs.bits ?? "");
      if (!r) throw notFound();
      return { file: r.file, size: r.size, md5: r.md5 };
    }
    const job = await this.d.jobStore.get(jobId);
    const a = job ? await this.d.archives.forJob(job).catch(() => null) : null;
    if (!a) throw notFound();
    return { file: a.file, size: a.size, md5: a.md5 };
  }

  /**
   * The piece of a job archive behind `download-chunk` (its id is its md5), for a session given a
   * frame of a job whose archive holds it: the jobs it holds frames of, then the ones it was given
   * lately. Jobs with the same files share one archive, so their chunks are one and the same.
   */
  async chunkFile(
    cookie: string | undefined,
    chunkId: string,
  ): Promise<{ file: string; offset: number; size: number; md5: string }> {
    const notFound = () => new FarmError("not-found", "no such chunk for this session");
    const s = await this.session(cookie).catch(() => {
      throw notFound();
    });
    const since = Date.now() - Math.max(this.opts.archiveAccessMs, this.opts.leaseMs);
    const [held, recent] = await Promise.all([this.d.work.held(s.id), this.d.state.recentJobs(s.id, since, 20)]);
    for (const jobId of new Set([...held.map((l) => l.jobId), ...recent])) {
      const job = await this.d.jobStore.get(jobId);
      const a = job ? await this.d.archives.forJob(job).catch(() => null) : null;
      const chunk = a?.chunks.find((c) => c.md5 === chunkId);
      if (a && chunk) return { file: a.file, offset: chunk.offset, size: chunk.size, md5: chunk.md5 };
    }
    throw notFound();
  }

  private jobIdOf(sheepitId: number): Promise<string | null> {
    return cached(this.jobIds, sheepitId, () => this.d.jobStore.idForSheepitId(sheepitId));
  }

  private framesOf(jobId: string): Promise<FrameList | null> {
    return cached(this.frameLists, jobId, () => this.d.jobStore.frames(jobId));
  }

  // ---- frames being rendered ------------------------------------------------------------------

  private async heldFrame(s: Session, sheepitId: number, frame: number): Promise<{ job: Job; lease: Lease } | null> {
    const jobId = await this.jobIdOf(sheepitId);
    const job = jobId ? await this.d.jobStore.get(jobId) : null;
    if (!job) return null;
    const lease = (await this.d.work.held(s.id)).find((l) => l.jobId === job.id && l.frames.includes(frame));
    return lease ? { job, lease } : null;
  }

  /**
   * The client is alive (and rendering `frame`, when given): its leases are renewed. `not-yours`
   * when the frame is no longer its own or its job was canceled: the client must stop.
   */
  async keepAlive(
    cookie: string | undefined,
    p: { sheepitId?: number; frame?: number; paused?: boolean },
  ): Promise<void> {
    const s = await this.session(cookie).catch(() => {
      throw new FarmError("not-yours", "no live session");
    });
    if (p.paused !== undefined) await this.d.sessions.update(s.id, { attrs: { ...s.attrs, paused: String(p.paused) } });
    const leases = await this.d.work.held(s.id);
    for (const l of leases) {
      await this.d.work.extend(l.id, s.id, this.opts.leaseMs).catch(() => undefined);
    }
    if (p.sheepitId === undefined || p.frame === undefined) {
      await this.stillGoing(s, leases);
      return;
    }
    const held = await this.heldFrame(s, p.sheepitId, p.frame);
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

  /**
   * An error report: kept (bounded); a frame the session holds is failed under the farm's failure
   * rules (or given back when the render was stopped by the user or the farm); memory and time
   * limits teach the job what it needs. Start-up logs (type 0) are only kept.
   */
  async reportError(
    cookie: string | undefined,
    p: { type: number; sheepitId?: number; frame?: number; renderSeconds?: number; memoryKb?: number; log: string },
  ): Promise<void> {
    const s = await this.session(cookie);
    const log = p.log.length > this.opts.errorLogMax ? p.log.slice(p.log.length - this.opts.errorLogMax) : p.log;
    await this.d.state.recordError(
      s.id,
      { time: new Date().toISOString(), type: p.type, job: p.sheepitId ?? null, frame: p.frame ?? null, log },
      this.opts.errorReportsKept,
    );
    if (p.type === 0 || p.sheepitId === undefined || p.frame === undefined) return;
    const held = await this.heldFrame(s, p.sheepitId, p.frame);
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
      await this.countBrokenAgainst(s.id);
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

  async recordSpeedtest(cookie: string | undefined, results: Array<{ target: string; speed: number; ping: number }>) {
    const s = await this.session(cookie);
    await this.d.sessions.update(s.id, { attrs: { ...s.attrs, speedtest: JSON.stringify(results.slice(0, 10)) } });
  }

  // ---- frames back ----------------------------------------------------------------------------

  /**
   * Checks an upload before its body is read: a live, enabled session, and a token signed for this
   * session, job and frame. `unauthenticated`/`forbidden` otherwise (SheepIt: 304).
   */
  async uploadTicket(
    cookie: string | undefined,
    p: { sheepitId: number; frame: number; token: string },
  ): Promise<UploadTicket> {
    const s = await this.session(cookie);
    const badToken = () =>
      reason("forbidden", "the validation token does not fit this session, job and frame", "bad-token");
    const [, jobId] = await Promise.all([this.activeUser(s), this.jobIdOf(p.sheepitId)]);
    if (!jobId) throw badToken();
    const leaseId = verifyFrameToken(await this.d.state.secret(), p.token, { sessionId: s.id, jobId, frame: p.frame });
    if (!leaseId) throw badToken();
    const [job, frames] = await Promise.all([this.d.jobStore.get(jobId), this.framesOf(jobId)]);
    const index = frames?.indexOf(p.frame) ?? -1;
    if (!job || index < 0) throw badToken();
    const st = await this.d.state.frameState(jobId, index);
    let target: string;
    try {
      target = await this.d.storage.confine(
        frameOutputPath(String(job.settings.render_output), p.frame, String(job.settings.output_file_extension)),
        "render_output",
      );
    } catch (err) {
      throw new FarmError("storage", `the frame's output path is not usable: ${(err as Error).message}`);
    }
    return { session: s, job, frame: p.frame, index, leaseId, target, alreadyDone: st?.state === "c" };
  }

  /**
   * Takes an uploaded frame (a temporary file, consumed): decoded and checked, written atomically
   * to the job's output path, the frame completed and points credited. A frame accepted before
   * changes nothing. `invalid` with reason `not-an-image` or `broken-frame`; `storage`.
   */
  async acceptFrame(t: UploadTicket, file: string, p: { renderSeconds?: number }): Promise<{ points: number }> {
    let placed = false;
    try {
      if (t.alreadyDone) return { points: 0 };
      const info = await this.d.frames.inspect(file);
      const broken = await this.brokenBecause(t, info);
      if (broken) {
        await this.d.frames.discard(file);
        await this.brokenFrame(t, broken);
      }
      const wanted = await this.stillWanted(t);
      if (!wanted) return { points: 0 };
      const verdict = await blackVerdict(this.d.blackFrames, {
        jobId: t.job.id,
        index: t.index,
        sessionId: t.session.id,
        black: info.black,
      });
      if (verdict.kind === "hold") {
        // Success for the client (it goes on); the frame waits for a second, different client.
        if (wanted.lease?.state === "active") await this.d.scheduler.release(t.leaseId, t.session.id);
        return { points: 0 };
      }
      if (verdict.blame) await this.countBrokenAgainst(verdict.blame);
      await this.d.frames.place(file, t.target);
      placed = true;
      return { points: await this.complete(t, wanted.lease, p.renderSeconds) };
    } finally {
      if (!placed) await this.d.frames.discard(file);
    }
  }

  private async brokenBecause(
    t: UploadTicket,
    info: Awaited<ReturnType<FrameFiles["inspect"]>>,
  ): Promise<string | null> {
    const ext = String(t.job.settings.output_file_extension).toLowerCase();
    // Never skipped: an extension the farm does not check is no frame at all.
    const expected = checkedImageFor(ext);
    if (!expected) return `the job's output extension ${ext} is not a frame the farm writes`;
    if (expected !== info.format) {
      return `the job renders ${blenderFileFormat(String(t.job.settings.format))}, the upload is ${info.format}`;
    }
    const known = await this.d.state.firstDimensions(t.job.id, { width: info.width, height: info.height });
    if (known.width !== info.width || known.height !== info.height) {
      return `the frame is ${info.width}x${info.height}, the job's frames are ${known.width}x${known.height}`;
    }
    return null;
  }

  private async brokenFrame(t: UploadTicket, why: string): Promise<never> {
    const lease = await this.d.work.lease(t.leaseId);
    if (lease?.state === "active" && lease.sessionId === t.session.id) {
      await this.d.work.fail(lease.id, t.session.id, `broken frame: ${why}`, [t.frame]).catch(() => undefined);
    }
    await this.countBrokenAgainst(t.session.id);
    throw reason("invalid", `broken frame: ${why}`, "broken-frame");
  }

  /** Counts a bad result in a row against a session; at SHEEPIT_BROKEN_FRAMES it is disabled and its frames go back. */
  private async countBrokenAgainst(sessionId: string): Promise<void> {
    const inARow = await this.d.state.countBroken(sessionId);
    if (inARow >= this.opts.brokenFrameLimit) {
      if (await this.d.sessions.get(sessionId)) await this.d.sessions.update(sessionId, { status: "disabled" });
      await this.d.work.releaseAll(sessionId);
    }
  }

  /**
   * Whether an upload should be written: yes while the lease holds; after it ran out, only while
   * the job still runs and no other client holds the frame (it then answers success and is
   * dropped, so the client moves on and the other client's frame is the one that lands).
   */
  private async stillWanted(t: UploadTicket): Promise<{ lease: Lease | null } | null> {
    const [st, lease] = await Promise.all([this.d.state.frameState(t.job.id, t.index), this.d.work.lease(t.leaseId)]);
    if (st && (st.state === "a" || st.state === "c") && st.leaseId !== t.leaseId) return null;
    if (lease?.state === "active") return { lease };
    const job = await this.d.jobStore.get(t.job.id);
    return job !== null && (runnableStatuses.has(job.status) || job.status === "paused") ? { lease } : null;
  }

  /**
   * Marks the frame completed (also after its lease ran out, while nobody else finished it).
   * `lease` as stillWanted read it: a lease that stopped being active never becomes active again,
   * and complete/completeLate check the lease's state atomically themselves.
   */
  private async complete(t: UploadTicket, lease: Lease | null, renderSeconds?: number): Promise<number> {
    let done = false;
    if (lease?.state === "active") {
      const res = await this.d.work.complete(t.leaseId, t.session.id, [t.frame]).catch(() => null);
      done = res?.completed.includes(t.frame) ?? false;
    }
    if (!done && lease) done = await this.d.work.completeLate(t.leaseId, t.session.id, t.frame);
    if (!done || !lease) {
      await this.d.state.resetBroken(t.session.id);
      return 0;
    }
    const elapsed = (Date.now() - Date.parse(lease.created)) / 1000;
    const points = pointsFor(Math.min(renderSeconds ?? elapsed, elapsed));
    const login = t.session.attrs.login ?? "";
    await Promise.all([this.d.accounts.addPoints(login, points), this.d.state.resetBroken(t.session.id, points)]);
    return points;
  }
}

/** The first line of a SheepIt error report in its task's log. */
function errorLogHeader(s: Session, type: number): string {
  return `${new Date().toISOString()} SheepIt client ${s.name} reported error type ${type}:`;
}

/** The value kept for `key`, else loaded and kept when found (values that never change while their job exists). */
async function cached<K, V>(map: Map<K, V>, key: K, load: () => Promise<V | null>): Promise<V | null> {
  const known = map.get(key);
  if (known !== undefined) return known;
  const value = await load();
  if (value !== null) {
    if (map.size >= JOBS_KEPT) map.clear();
    map.set(key, value);
  }
  return value;
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
