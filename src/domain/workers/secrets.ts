import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/**
 * Worker secrets at rest: scrypt (N=16384, r=8, p=1, 32 bytes) with a random salt per worker.
 * A check costs tens of milliseconds on purpose; `VerifiedCredentials` keeps the per-request
 * cost near zero for credentials seen recently.
 */
export interface StoredSecret {
  /** `scrypt:N:r:p`, so the parameters can change later without breaking stored secrets. */
  algo: string;
  salt: string;
  hash: string;
}

const N = 16_384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function derive(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEYLEN, { N: n, r, p, maxmem: 256 * n * r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashSecret(secret: string): Promise<StoredSecret> {
  const salt = randomBytes(16);
  const hash = await derive(secret, salt, N, R, P);
  return { algo: `scrypt:${N}:${R}:${P}`, salt: salt.toString("hex"), hash: hash.toString("hex") };
}

/** Constant-time check of `secret` against a stored hash. */
export async function verifySecret(secret: string, stored: StoredSecret): Promise<boolean> {
  const [name, n, r, p] = stored.algo.split(":");
  if (name !== "scrypt") return false;
  const expected = Buffer.from(stored.hash, "hex");
  let actual: Buffer;
  try {
    actual = await derive(secret, Buffer.from(stored.salt, "hex"), Number(n), Number(r), Number(p));
  } catch {
    return false;
  }
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

let dummy: Promise<StoredSecret> | undefined;

/** A hash no secret matches, checked for unknown workers so they take as long as known ones. */
export function dummySecret(): Promise<StoredSecret> {
  dummy ??= hashSecret(randomBytes(32).toString("hex"));
  return dummy;
}

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
