import { createHash } from "node:crypto";

/**
 * Credentials verified recently, in this process only, keyed by a SHA-256 of worker id and
 * secret (the secret itself is never kept). Entries expire after `ttlMs`; at most `max` are kept.
 */
export class VerifiedCredentials {
  private readonly entries = new Map<string, { workerId: string; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}

  static key(workerId: string, secret: string): string {
    return createHash("sha256").update(workerId).update("\0").update(secret).digest("base64");
  }

  has(key: string, workerId: string, now = Date.now()): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    if (e.until <= now || e.workerId !== workerId) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  add(key: string, workerId: string, now = Date.now()): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { workerId, until: now + this.ttlMs });
  }

  /** Forgets every entry of the worker (e.g. when it is removed). */
  forget(workerId: string): void {
    for (const [k, e] of this.entries) if (e.workerId === workerId) this.entries.delete(k);
  }
}
