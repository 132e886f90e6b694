import type { Redis } from "ioredis";

/**
 * HGETALL of many keys in one round trip (a pipeline), each hash parsed by `parse`, in the order
 * of `keys`; a missing or unparsable hash gives null. The stores' list operations all read this way.
 */
export async function readHashes<T>(
  redis: Redis,
  keys: readonly string[],
  parse: (hash: Record<string, string>) => T | null,
): Promise<Array<T | null>> {
  if (keys.length === 0) return [];
  const pipe = redis.pipeline();
  for (const key of keys) pipe.hgetall(key);
  const rows = (await pipe.exec()) ?? [];
  return rows.map(([err, hash]) => {
    if (err) throw err;
    return parse(hash as Record<string, string>);
  });
}

/** The non-null values, in order. */
export function present<T>(values: ReadonlyArray<T | null>): T[] {
  return values.filter((v): v is T => v !== null);
}
