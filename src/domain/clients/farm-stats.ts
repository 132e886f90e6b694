import type { User } from "../accounts/accounts.js";
import type { Session } from "../sessions/session.js";
import type { RenderClientDeps, RenderClientOptions } from "./render-client-options.js";

/** The farm's figures a frame answer carries. */
export interface FarmStats {
  sessionCredits: number;
  totalCredits: number;
  framesRemaining: number;
  jobsWaiting: number;
  connectedClients: number;
}

/** The farm's figures for a session: its own credits, its user's, and the farm's (read at most once a second). */
export class FarmStatsCache {
  private statsCache:
    | { at: number; value: { framesRemaining: number; jobsWaiting: number; connected: number } }
    | undefined;

  constructor(
    private readonly d: RenderClientDeps,
    private readonly opts: RenderClientOptions,
  ) {}

  async forSession(s: Session, user: User): Promise<FarmStats> {
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
}
