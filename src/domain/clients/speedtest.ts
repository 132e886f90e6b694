import type { ClientSessions } from "./client-sessions.js";
import type { RenderClientDeps } from "./render-client-options.js";

/** `speedtest-answer`: the results a 2024 client measured, kept with its session (the first ten). */
export class Speedtests {
  constructor(
    private readonly d: RenderClientDeps,
    private readonly clientSessions: ClientSessions,
  ) {}

  async recordSpeedtest(cookie: string | undefined, results: Array<{ target: string; speed: number; ping: number }>) {
    const s = await this.clientSessions.session(cookie);
    await this.d.sessions.update(s.id, { attrs: { ...s.attrs, speedtest: JSON.stringify(results.slice(0, 10)) } });
  }
}
