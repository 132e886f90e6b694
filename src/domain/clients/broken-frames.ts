import type { RenderClientDeps, RenderClientOptions } from "./render-client-options.js";

/** Bad results in a row (broken frames, set-up errors, blamed black frames) counted against a session. */
export class BrokenFrames {
  constructor(
    private readonly d: RenderClientDeps,
    private readonly opts: RenderClientOptions,
  ) {}

  /** Counts a bad result in a row against a session; at SHEEPIT_BROKEN_FRAMES it is disabled and its frames go back. */
  async countAgainst(sessionId: string): Promise<void> {
    const inARow = await this.d.state.countBroken(sessionId);
    if (inARow >= this.opts.brokenFrameLimit) {
      if (await this.d.sessions.get(sessionId)) await this.d.sessions.update(sessionId, { status: "disabled" });
      await this.d.work.releaseAll(sessionId);
    }
  }
}
