import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/**
 * Secrets at rest, for every kind of client: SheepIt users' passwords and Flamenco workers'
 * secrets are kept as scrypt hashes (`scrypt$N$r$p$salt$hash`, salt per secret, parameters in
 * the string so they can change later); high-entropy tokens (render keys) as SHA-256. A check
 * costs tens of milliseconds on purpose, and is constant-time. Nothing here is ever logged.
 */

const N = 16_384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function derive(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEYLEN, { N: n, r, p, maxmem: 256 * n * r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(secret, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

/** Constant-time check of `secret` against a stored hash; false for a malformed one. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  let actual: Buffer;
  try {
    actual = await derive(secret, Buffer.from(salt, "base64url"), Number(n), Number(r), Number(p));
  } catch {
    return false;
  }
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let dummy: Promise<string> | undefined;

/** A hash no secret matches: checked for unknown names so they take as long as known ones. */
export function dummyHash(): Promise<string> {
  dummy ??= hashSecret(randomBytes(32).toString("hex"));
  return dummy;
}

export function sha256Hex(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

/** An unguessable random token (session cookies, render keys): 256 random bits. */
export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}
