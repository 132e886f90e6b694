import type { Redis } from "ioredis";
import type { AttemptLimit, AttemptLimiter } from "../../src/domain/attempt-limiter.js";
import { LuaScript } from "./lua-script.js";

/**
 * KEYS: the subjects' counters; ARGV[1] the window in ms, ARGV[1 + i] the limit of KEYS[i].
 * Answers 0 when every counter was below its limit (each then counts one more, the window
 * starting at its first attempt), else the index of the first counter at its limit.
 */
const reserveAttempt = new LuaScript(
  "reserve-attempt",
  `for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i + 1]) then return i end
end
for i = 1, #KEYS do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[1], 'NX')
end
return 0`,
);

/** KEYS: the counters whose attempt succeeded; each counts one less (never below 0). */
const refundAttempt = new LuaScript(
  "refund-attempt",
  `for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 1`,
);

/** Attempt counters in Redis, one fixed window per subject (its expiry set on its first attempt). */
export class RedisAttemptLimiter implements AttemptLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keyOf: (subject: string) => string,
    private readonly windowMs: number,
  ) {}

  async reserve(limits: readonly AttemptLimit[]): Promise<string | null> {
    const at = Number(
      await reserveAttempt.run(
        this.redis,
        limits.map((l) => this.keyOf(l.subject)),
        [this.windowMs, ...limits.map((l) => l.limit)],
      ),
    );
    return at === 0 ? null : (limits[at - 1]?.subject ?? null);
  }

  async refund(subjects: readonly string[]): Promise<void> {
    if (subjects.length === 0) return;
    await refundAttempt.run(
      this.redis,
      subjects.map((s) => this.keyOf(s)),
      [],
    );
  }
}
