import type { Capabilities } from "../scheduling/capabilities.js";

export type Protocol = "flamenco" | "sheepit";

/**
 * A connected client of either protocol: a Flamenco worker or a SheepIt client. Both are the same
 * idea to the farm: capabilities, a status, when it was last seen, and the leases it holds.
 */
export interface Session {
  id: string;
  protocol: Protocol;
  /** Worker nickname or SheepIt login@hostname. */
  name: string;
  /** Protocol-level status (Flamenco's WorkerStatus; `awake`/`offline`/`disabled` for SheepIt). */
  status: string;
  caps: Capabilities;
  created: string;
  /** Last request of any kind, ms since epoch. */
  lastSeen: number;
  /** Protocol-specific fields (platform, address, login, ...). */
  attrs: Record<string, string>;
}

/** The port that keeps sessions (adapters/redis/redis-session-store.ts). */
export interface SessionStore {
  put(session: Session): Promise<void>;
  get(id: string): Promise<Session | null>;
  /** Records a request from the session now; false when it does not exist. */
  touch(id: string, now?: number): Promise<boolean>;
  /**
   * The session, touched now when it was last seen at `seenSince` or later (one round trip);
   * `fresh` false (and not touched) when it was unseen longer; null when it does not exist.
   */
  getFresh(id: string, seenSince: number, now?: number): Promise<{ session: Session; fresh: boolean } | null>;
  /** Merges fields into the session. */
  update(id: string, patch: Partial<Pick<Session, "status" | "name" | "caps" | "attrs">>): Promise<void>;
  list(protocol?: Protocol): Promise<Session[]>;
  /** Ids of sessions last seen before `ms`. */
  unseenSince(ms: number): Promise<string[]>;
  delete(id: string): Promise<void>;
  /** Name and protocol of a session that ended (kept a while, so its tasks still name their holder); null when unknown. */
  formerHolder(id: string): Promise<{ id: string; name: string; protocol: Protocol } | null>;
}
