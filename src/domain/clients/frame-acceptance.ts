import { runnableStatuses } from "../jobs/job.js";
import { checkedImageFor } from "../jobs/output-formats.js";
import type { Lease } from "../scheduling/capabilities.js";
import { blackVerdict } from "./black-frame-check.js";
import { blenderFileFormat } from "./blender-script.js";
import type { BrokenFrames } from "./broken-frames.js";
import { reason } from "./client-errors.js";
import { pointsFor } from "./points.js";
import type { FrameFiles } from "./ports.js";
import type { RenderClientDeps } from "./render-client-options.js";
import type { UploadTicket } from "./upload-tickets.js";

/** `send_frame.php` with its body: an uploaded frame checked, written, completed and credited. */
export class FrameAcceptance {
  constructor(
    private readonly d: RenderClientDeps,
    private readonly broken: BrokenFrames,
  ) {}

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
      if (verdict.blame) await this.broken.countAgainst(verdict.blame);
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
    await this.broken.countAgainst(t.session.id);
    throw reason("invalid", `broken frame: ${why}`, "broken-frame");
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
