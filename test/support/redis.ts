import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { inject } from "vitest";

/**
 * Helpers for tests that need Redis. The whole suite shares one server (test/support/global-redis.ts);
 * each test file keeps to its own key prefix so files can run in parallel:
 *
 *   const prefix = uniquePrefix("queue");      // e.g. "t-queue-k3x9qa"
 *   const redis = createTestRedis();
 *   afterAll(async () => { await deleteKeysWithPrefix(redis, prefix); redis.disconnect(); });
 *
 * Keys are named `{prefix}:...` (hash-tagged), so pass `prefix` wherever the code under test takes
 * a key prefix. Never FLUSHDB/FLUSHALL: other files are using the same database.
 */

/** The suite's Redis URL, provided by the global setup. */
export function redisUrl(): string {
  return inject("redisUrl");
}

const issued = new Set<string>();
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A short prefix, unique per call, of [a-z0-9-] only: `t-<label>-<6 random chars>`. */
export function uniquePrefix(label: string): string {
  const clean =
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 20)
      .replace(/-+$/, "") || "x";
  for (;;) {
    const random = Array.from(randomBytes(6), (b) => ALPHABET[b % ALPHABET.length]).join("");
    const prefix = `t-${clean}-${random}`;
    if (!issued.has(prefix)) {
      issued.add(prefix);
      return prefix;
    }
  }
}

/** An ioredis client for the suite's Redis (maxRetriesPerRequest: null, as BullMQ requires). */
export function createTestRedis(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: null });
}

/** Redis glob patterns treat * ? [ ] \ specially; escape them so the prefix matches literally. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, "\\$&");
}

/**
 * Removes every key that contains `{prefix}` or `prefix:` (SCAN + UNLINK); returns how many were
 * removed. Keys of other prefixes are left alone.
 */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  if (!prefix) throw new Error("deleteKeysWithPrefix: empty prefix would match every key");
  const patterns = [`*{${globEscape(prefix)}}*`, `*${globEscape(prefix)}:*`];
  const keys = new Set<string>();
  for (const pattern of patterns) {
    let cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      for (const key of batch) keys.add(key);
    } while (cursor !== "0");
  }
  const all = [...keys];
  let removed = 0;
  for (let i = 0; i < all.length; i += 500) {
    removed += await redis.unlink(...all.slice(i, i + 500));
  }
  return removed;
}
