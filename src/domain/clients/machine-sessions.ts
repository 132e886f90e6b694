import type { Session } from "../sessions/session.js";

/**
 * A restarted machine (issue 9.8): a SheepIt client killed and started again logs in with the same
 * login, hostname and hwid and gets a new session, while its old session would hold its frame until
 * SHEEPIT_LEASE ran out. The old sessions of the same machine are ended at sign-in instead, so
 * their frames go back in line at once.
 */
export interface MachineIdentity {
  login: string;
  /** `hwid:<hwid>`, `host:<hostname>` or `unknown` (see RenderClientService.signIn). */
  machine: string;
  hostname: string;
}

/** Sessions among `sessions` that the same machine opened before (none when the machine is unknown). */
export function earlierSessionsOf(m: MachineIdentity, sessions: Session[], exceptId: string): Session[] {
  if (m.machine === "unknown") return [];
  return sessions.filter(
    (s) =>
      s.protocol === "sheepit" &&
      s.id !== exceptId &&
      s.attrs.login === m.login &&
      s.attrs.machine === m.machine &&
      (s.attrs.hostname ?? "") === m.hostname,
  );
}
