import type { AttemptLimiter } from "../attempt-limiter.js";
import { CheckGate } from "../check-gate.js";
import { FarmError } from "../errors.js";
import { dummyHash, verifySecret } from "../secrets.js";
import type { Session, SessionStore } from "../sessions/session.js";
import { plainAddress } from "./networks.js";
import { VerifiedCredentials } from "./secrets.js";
import type { WorkerStore } from "./worker-store.js";

export interface WorkerAuthenticationOptions {
  /** How long a verified secret is remembered in this process. */
  credentialsTtlMs?: number;
  /** Counts secret checks per address (a slot taken before hashing, given back when right). */
  authLimiter?: AttemptLimiter;
  /** Wrong secrets per address within the limiter's window before checks are refused unhashed (WORKER_AUTH_RATE_LIMIT). */
  authFailuresPerAddress?: number;
  /** Secret checks one process runs at once (more wait, a few; past that 503). */
  concurrentChecks?: number;
}

/**
 * A worker's credentials on every call: its secret checked against the scrypt hash (remembered for
 * a while once right), a slot of the caller's address taken first, and the worker's last-seen time
 * refreshed.
 */
export class WorkerAuthentication {
  private readonly verified: VerifiedCredentials;
  private readonly gate: CheckGate;
  /** Secrets checked (scrypt) since this was made. */
  secretChecks = 0;
  /** Addresses the limiter refused, until when this process refuses them without asking Redis. */
  private readonly refusedUntil = new Map<string, number>();

  constructor(
    private readonly sessions: SessionStore,
    private readonly store: WorkerStore,
    private readonly opts: WorkerAuthenticationOptions,
  ) {
    this.verified = new VerifiedCredentials(opts.credentialsTtlMs ?? 30_000);
    this.gate = new CheckGate(opts.concurrentChecks ?? 2);
    // Hash the dummy secret now, so the first unknown worker is not answered faster.
    void dummyHash();
  }

  /**
   * Checks a worker's credentials and records that it was seen. Unknown workers and wrong secrets
   * cost the same and both throw `forbidden`. Credentials verified in the last 30 s pass without
   * a check; any other check first takes a slot of its address (`address`), given back when the
   * secret is right, so past `authFailuresPerAddress` wrong secrets an address is refused
   * (`forbidden`, reason `rate-limited`) without hashing, while other addresses go on. Answers
   * the worker's session as it is now, read in the same round trip as the touch.
   */
  async authenticate(workerId: string, secret: string, address = ""): Promise<Session> {
    const key = VerifiedCredentials.key(workerId, secret);
    if (!this.verified.has(key, workerId)) {
      const subject = `addr:${plainAddress(address)}`;
      const limiter = this.opts.authLimiter;
      if (limiter) {
        const throttled = () =>
          new FarmError("forbidden", "too many wrong worker credentials from this address; try again later", {
            reason: "rate-limited",
          });
        if ((this.refusedUntil.get(subject) ?? 0) > Date.now()) throw throttled();
        const refused = await limiter.reserve([{ subject, limit: this.opts.authFailuresPerAddress ?? 20 }]);
        if (refused !== null) {
          if (this.refusedUntil.size >= 10_000) this.refusedUntil.clear();
          this.refusedUntil.set(subject, Date.now() + 1_000);
          throw throttled();
        }
      }
      const stored = await this.store.secret(workerId);
      const ok = await this.gate.run(async () => {
        this.secretChecks++;
        return verifySecret(secret, stored ?? (await dummyHash()));
      });
      if (!ok || !stored) throw new FarmError("forbidden", "wrong worker credentials");
      await limiter?.refund([subject]);
      this.verified.add(key, workerId);
    }
    // Touched and read in one round trip (seen since 0: always touched while it exists).
    const found = await this.sessions.getFresh(workerId, 0);
    if (!found) {
      this.verified.forget(workerId);
      throw new FarmError("forbidden", "wrong worker credentials");
    }
    return found.session;
  }
}
