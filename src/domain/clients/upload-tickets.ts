import { FarmError } from "../errors.js";
import type { Job } from "../jobs/job.js";
import { frameOutputPath } from "../jobs/output-path.js";
import type { Session } from "../sessions/session.js";
import { reason } from "./client-errors.js";
import type { ClientSessions } from "./client-sessions.js";
import { verifyFrameToken } from "./frame-token.js";
import type { KnownJobs } from "./known-jobs.js";
import type { RenderClientDeps } from "./render-client-options.js";

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

/** `send_frame.php` before its body is read: who uploads which frame, and where it lands. */
export class UploadTickets {
  constructor(
    private readonly d: RenderClientDeps,
    private readonly clientSessions: ClientSessions,
    private readonly known: KnownJobs,
  ) {}

  /**
   * Checks an upload before its body is read: a live, enabled session, and a token signed for this
   * session, job and frame. `unauthenticated`/`forbidden` otherwise (SheepIt: 304).
   */
  async uploadTicket(
    cookie: string | undefined,
    p: { sheepitId: number; frame: number; token: string },
  ): Promise<UploadTicket> {
    const s = await this.clientSessions.session(cookie);
    const badToken = () =>
      reason("forbidden", "the validation token does not fit this session, job and frame", "bad-token");
    const [, jobId] = await Promise.all([this.clientSessions.activeUser(s), this.known.jobIdOf(p.sheepitId)]);
    if (!jobId) throw badToken();
    const leaseId = verifyFrameToken(await this.d.state.secret(), p.token, { sessionId: s.id, jobId, frame: p.frame });
    if (!leaseId) throw badToken();
    const [job, frames] = await Promise.all([this.d.jobStore.get(jobId), this.known.framesOf(jobId)]);
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
}
