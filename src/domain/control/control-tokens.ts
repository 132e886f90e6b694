import { createHash, randomBytes } from "node:crypto";
import { FarmError } from "../errors.js";

/**
 * Control tokens: bearer credentials for farm control (job submission, job/task/worker
 * management, metrics) from outside `CONTROL_ALLOWED_NETWORKS`. A token is 256 random bits shown
 * once when made; only its SHA-256 is stored. A token is found by its hash in one lookup, so the
 * check stays cheap (no slow hash needed: the token is random, not a password).
 */
export interface ControlToken {
  name: string;
  /** ISO time it was made. */
  created: string;
  /** ISO time it was last accepted (to within the cache time), or "" when never. */
  lastUsed: string;
}

export interface ControlTokenStore {
  /** Adds a token; false when `name` is taken. */
  add(name: string, hash: string, created: string): Promise<boolean>;
  list(): Promise<ControlToken[]>;
  /** Removes a token by name; false when there is none. */
  revoke(name: string): Promise<boolean>;
  /** The name of the token with this hash, or null. */
  nameOf(hash: string): Promise<string | null>;
  /** Records a use of the token (no-op when it was revoked meanwhile). */
  touch(name: string, hash: string, at: string): Promise<void>;
}

export interface ControlTokenOptions {
  /** How long an accepted token is believed without asking the store again (a revoke takes this long at most). */
  cacheMs: number;
  now?: () => number;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const TOKEN_PREFIX = "bwc_";
const TOKEN_RE = /^bwc_[A-Za-z0-9_-]{43}$/;
const CACHE_MAX = 1000;

export function hashControlToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export class ControlTokenService {
  private readonly cache = new Map<string, { name: string; until: number }>();
  private readonly now: () => number;

  constructor(
    private readonly store: ControlTokenStore,
    private readonly opts: ControlTokenOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Makes a token named `name`; the token itself is in the answer only (never stored). */
  async add(name: string): Promise<{ name: string; token: string; created: string }> {
    if (!NAME_RE.test(name)) {
      throw new FarmError("invalid", "a token name is 1-64 letters, digits, '.', '_', '@' or '-'", { field: "name" });
    }
    const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
    const created = new Date(this.now()).toISOString();
    if (!(await this.store.add(name, hashControlToken(token), created))) {
      throw new FarmError("invalid", `a token named "${name}" exists; revoke it first or pick another name`, {
        field: "name",
      });
    }
    return { name, token, created };
  }

  list(): Promise<ControlToken[]> {
    return this.store.list();
  }

  async revoke(name: string): Promise<void> {
    if (!(await this.store.revoke(name))) throw new FarmError("not-found", `no token named "${name}"`);
    for (const [hash, entry] of this.cache) if (entry.name === name) this.cache.delete(hash);
  }

  /** The name of the token when `token` is a valid one, else null. Cached for `cacheMs` per process. */
  async verify(token: string): Promise<string | null> {
    if (!TOKEN_RE.test(token)) return null;
    const hash = hashControlToken(token);
    const now = this.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.name;
    this.cache.delete(hash);
    const name = await this.store.nameOf(hash);
    if (!name) return null;
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(hash, { name, until: now + this.opts.cacheMs });
    await this.store.touch(name, hash, new Date(now).toISOString());
    return name;
  }
}
