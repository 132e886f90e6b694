import { createHash } from "node:crypto";
import { ExpiringMap } from "../expiring-map.js";

/**
 * Credentials verified recently, in this process only, keyed by a SHA-256 of worker id and
 * secret (the secret itself is never kept). Entries expire after `ttlMs`; at most `max` are kept.
 */
export class VerifiedCredentials {
  /** Key → the worker id it was verified for. */
  private readonly entries: ExpiringMap<string>;

  constructor(
    private readonly ttlMs: number,
    max = 10_000,
  ) {
    this.entries = new ExpiringMap(max);
  }

  static key(workerId: string, secret: string): string {
    return createHash("sha256").update(workerId).update("\0").update(secret).digest("base64");
  }

  has(key: string, workerId: string, now = Date.now()): boolean {
    const verifiedFor = this.entries.get(key, now);
    if (verifiedFor === undefined) return false;
    if (verifiedFor !== workerId) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  add(key: string, workerId: string, now = Date.now()): void {
    this.entries.set(key, workerId, now + this.ttlMs);
  }

  /** Forgets every entry of the worker (e.g. when it is removed). */
  forget(workerId: string): void {
    this.entries.deleteWhere((id) => id === workerId);
  }
}
