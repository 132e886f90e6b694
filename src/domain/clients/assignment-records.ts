import { ExpiringMap } from "../expiring-map.js";
import type { RenderClientStore } from "./ports.js";

/**
 * The record of which jobs a session was given frames of (what lets it download their archives
 * and chunks, and keep them alive, for ARCHIVE access time: an hour or more), written at most once
 * per `everyMs` per session and job by this process (a tenth of that window: access ends at most
 * that much early after the last frame). A client asks for frames of the same job again and
 * again, every few minutes for real renders; writing the record each time cost a round trip of
 * every `request_job` for a time that is read against a window ten times as long.
 */
export class AssignmentRecords {
  private readonly written: ExpiringMap<true>;

  constructor(
    private readonly store: Pick<RenderClientStore, "recordAssignment">,
    private readonly everyMs: number,
    max = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.written = new ExpiringMap(max);
  }

  async record(sessionId: string, jobId: string): Promise<void> {
    const key = `${sessionId}\0${jobId}`;
    const t = this.now();
    if (this.written.get(key, t)) return;
    await this.store.recordAssignment(sessionId, jobId);
    this.written.set(key, true, t + this.everyMs);
  }
}
