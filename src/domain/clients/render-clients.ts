import type { Session } from "../sessions/session.js";
import { ArchiveDownloads } from "./archive-downloads.js";
import { BrokenFrames } from "./broken-frames.js";
import { ClientSessions } from "./client-sessions.js";
import { ErrorReports } from "./error-reports.js";
import { FarmStatsCache } from "./farm-stats.js";
import { FrameAcceptance } from "./frame-acceptance.js";
import { type FrameAnswer, type FrameRequest, FrameRequests } from "./frame-requests.js";
import { KeepAlives } from "./keepalive.js";
import { KnownJobs } from "./known-jobs.js";
import type { RenderClientDeps, RenderClientOptions } from "./render-client-options.js";
import { ClientSignIn, type SignIn } from "./sign-in.js";
import { Speedtests } from "./speedtest.js";
import { type UploadTicket, UploadTickets } from "./upload-tickets.js";

export { compareVersions } from "./client-version.js";
export type { FarmStats } from "./farm-stats.js";
export type { FrameAnswer, FrameRequest, GivenFrame } from "./frame-requests.js";
export { padFrame } from "./frame-text.js";
export { pointsFor } from "./points.js";
export type { RenderClientDeps, RenderClientOptions } from "./render-client-options.js";
export { sessionIdOf } from "./session-cookie.js";
export type { SignIn } from "./sign-in.js";
export type { UploadTicket } from "./upload-tickets.js";

/**
 * Render clients that take one frame at a time and upload the image (SheepIt clients): sign in,
 * ask for a frame, keep it, send it back or report an error, sign out. The rules of the farm for
 * them live in this folder, one verb a file: sign-in.ts, client-sessions.ts (session, sign-out,
 * timeout sweep), frame-requests.ts, archive-downloads.ts, keepalive.ts, error-reports.ts,
 * speedtest.ts, upload-tickets.ts and frame-acceptance.ts. This facade is what the farm and
 * adapters/sheepit/ hold; the routes only translate the wire.
 */
export class RenderClientService {
  private readonly clientSessions: ClientSessions;
  private readonly signIns: ClientSignIn;
  private readonly frameRequests: FrameRequests;
  private readonly downloads: ArchiveDownloads;
  private readonly keepAlives: KeepAlives;
  private readonly errorReports: ErrorReports;
  private readonly speedtests: Speedtests;
  private readonly uploadTickets: UploadTickets;
  private readonly acceptance: FrameAcceptance;

  constructor(d: RenderClientDeps, opts: RenderClientOptions) {
    const sessions = new ClientSessions(d, opts);
    const known = new KnownJobs(d);
    const broken = new BrokenFrames(d, opts);
    this.clientSessions = sessions;
    this.signIns = new ClientSignIn(d, opts, sessions);
    this.frameRequests = new FrameRequests(d, opts, sessions, new FarmStatsCache(d, opts));
    this.downloads = new ArchiveDownloads(d, opts, sessions);
    this.keepAlives = new KeepAlives(d, opts, sessions, known);
    this.errorReports = new ErrorReports(d, opts, sessions, known, broken);
    this.speedtests = new Speedtests(d, sessions);
    this.uploadTickets = new UploadTickets(d, sessions, known);
    this.acceptance = new FrameAcceptance(d, broken);
  }

  // ---- sessions -------------------------------------------------------------------------------

  /** Checks the client and the credentials and opens a session; answers its cookie and render key. */
  signIn(p: SignIn): Promise<{ cookie: string; session: Session; renderKey: string }> {
    return this.signIns.signIn(p);
  }

  /** The live session behind a cookie (touched); `unauthenticated` (reason session-dead) otherwise. */
  session(cookie: string | undefined): Promise<Session> {
    return this.clientSessions.session(cookie);
  }

  /** Ends the session: its frames go back in line at once. Unknown cookies are ignored. */
  signOut(cookie: string | undefined): Promise<void> {
    return this.clientSessions.signOut(cookie);
  }

  /** Ends the session (signed out, timed out, or by an operator from the dashboard). */
  endSession(sessionId: string): Promise<void> {
    return this.clientSessions.endSession(sessionId);
  }

  /** Ends sessions unseen for longer than the session timeout (periodic). */
  sweep(): Promise<number> {
    return this.clientSessions.sweep();
  }

  // ---- frames out -----------------------------------------------------------------------------

  /** A frame for the session, null when nothing fits (FrameRequests.requestFrame). */
  requestFrame(cookie: string | undefined, req: FrameRequest): Promise<FrameAnswer> {
    return this.frameRequests.requestFrame(cookie, req);
  }

  /** The file behind `archive.php` (ArchiveDownloads.archiveFile). */
  archiveFile(
    cookie: string | undefined,
    type: "job" | "binary",
    sheepitId: number,
  ): Promise<{ file: string; size: number; md5: string }> {
    return this.downloads.archiveFile(cookie, type, sheepitId);
  }

  /** The piece of a job archive behind `download-chunk` (ArchiveDownloads.chunkFile). */
  chunkFile(
    cookie: string | undefined,
    chunkId: string,
  ): Promise<{ file: string; offset: number; size: number; md5: string }> {
    return this.downloads.chunkFile(cookie, chunkId);
  }

  // ---- frames being rendered ------------------------------------------------------------------

  /** The client is alive; `not-yours` when it must stop (KeepAlives.keepAlive). */
  keepAlive(cookie: string | undefined, p: { sheepitId?: number; frame?: number; paused?: boolean }): Promise<void> {
    return this.keepAlives.keepAlive(cookie, p);
  }

  /** An error report (ErrorReports.reportError). */
  reportError(
    cookie: string | undefined,
    p: { type: number; sheepitId?: number; frame?: number; renderSeconds?: number; memoryKb?: number; log: string },
  ): Promise<void> {
    return this.errorReports.reportError(cookie, p);
  }

  recordSpeedtest(
    cookie: string | undefined,
    results: Array<{ target: string; speed: number; ping: number }>,
  ): Promise<void> {
    return this.speedtests.recordSpeedtest(cookie, results);
  }

  // ---- frames back ----------------------------------------------------------------------------

  /** Checks an upload before its body is read (UploadTickets.uploadTicket). */
  uploadTicket(
    cookie: string | undefined,
    p: { sheepitId: number; frame: number; token: string },
  ): Promise<UploadTicket> {
    return this.uploadTickets.uploadTicket(cookie, p);
  }

  /** Takes an uploaded frame (FrameAcceptance.acceptFrame). */
  acceptFrame(t: UploadTicket, file: string, p: { renderSeconds?: number }): Promise<{ points: number }> {
    return this.acceptance.acceptFrame(t, file, p);
  }
}
