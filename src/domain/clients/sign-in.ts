import { randomToken } from "../secrets.js";
import type { Session } from "../sessions/session.js";
import { reason } from "./client-errors.js";
import type { ClientSessions } from "./client-sessions.js";
import { compareVersions } from "./client-version.js";
import { earlierSessionsOf } from "./machine-sessions.js";
import type { RenderClientDeps, RenderClientOptions } from "./render-client-options.js";
import { sessionIdOf } from "./session-cookie.js";

/** What a SheepIt client sends to `config.php`. */
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

/** `config.php`: a client signs in with its password or render key and gets a session. */
export class ClientSignIn {
  constructor(
    private readonly d: RenderClientDeps,
    private readonly opts: RenderClientOptions,
    private readonly clientSessions: ClientSessions,
  ) {}

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
    for (const old of earlierSessionsOf(same, await this.d.sessions.list("sheepit"), id)) {
      await this.clientSessions.endSession(old.id);
    }
    return { cookie, session, renderKey };
  }
}
