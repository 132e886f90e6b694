import { Redis } from "ioredis";

/** A Redis connection fit for BullMQ (no per-command retry limit) and for the farm's own keys. */
export function connectRedis(url: string, name = "bellwether"): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: name,
  });
  failInFlightOnDisconnect(redis);
  return redis;
}

const guarded = new WeakSet<Redis>();

/**
 * Makes a command that was sent but not answered when the connection dropped fail (with
 * `InFlightCommandLost`) instead of being sent again after the reconnect, which is what ioredis
 * does by default (`autoResendUnfulfilledCommands`). A re-sent command may run twice: the first
 * copy may have run before the connection dropped. Commands not yet sent wait for the reconnect
 * as before (`maxRetriesPerRequest: null`), so a Redis restart delays them rather than failing
 * them. Each of the farm's state changes is one script that is safe to retry after such a
 * failure (docs/architecture.md, "Claims across reconnects"). Idempotent per connection.
 */
export function failInFlightOnDisconnect(redis: Redis): void {
  if (guarded.has(redis)) return;
  guarded.add(redis);
  const flushable = redis as unknown as {
    flushQueue?: (err: Error, opts: { offlineQueue: boolean; commandQueue: boolean }) => void;
  };
  // ioredis emits `close` on the next tick after its close handler kept the unanswered commands
  // for resending and before any reconnect (which waits for the retry delay).
  redis.on("close", () => {
    flushable.flushQueue?.(new InFlightCommandLost(), { offlineQueue: false, commandQueue: true });
  });
}

/** A command's answer was lost with the connection; it may or may not have run. */
export class InFlightCommandLost extends Error {
  constructor() {
    super("Redis connection lost before the command was answered; it may or may not have run");
    this.name = "InFlightCommandLost";
  }
}
