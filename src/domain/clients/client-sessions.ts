import type { User } from "../accounts/accounts.js";
import type { Session } from "../sessions/session.js";
import { sessionDead, sessionDisabled } from "./client-errors.js";
import type { RenderClientDeps, RenderClientOptions } from "./render-client-options.js";
import { sessionIdOf } from "./session-cookie.js";

/**
 * A SheepIt client's session: found by its cookie while fresh, its user still allowed, ended at
 * logout, by an operator or after SHEEPIT_SESSION_TIMEOUT without a request (its frames go back
 * in line then).
 */
export class ClientSessions {
  constructor(
    private readonly d: RenderClientDeps,
    private readonly opts: RenderClientOptions,
  ) {}

  /** The live session behind a cookie (touched); `unauthenticated` (reason session-dead) otherwise. */
  async session(cookie: string | undefined): Promise<Session> {
    if (!cookie) throw sessionDead();
    const found = await this.d.sessions.getFresh(sessionIdOf(cookie), Date.now() - this.opts.sessionTimeoutMs);
    if (!found?.fresh || found.session.protocol !== "sheepit") throw sessionDead();
    return found.session;
  }

  /** The session's user, while neither is disabled; `forbidden` (reason session-disabled) otherwise. */
  async activeUser(s: Session): Promise<User> {
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
}
