import type { Redis } from "ioredis";
import type { BlackFrameStore } from "../../src/domain/clients/black-frame-check.js";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

/**
 * holdBlackCandidate: records `session` as the first client that rendered frame `index` all black
 * and bars it from the frame (the claim skips frames in a session's failure list) without counting
 * a failure: the frame waits for a second, different client.
 *
 * KEYS[1] candidates hash (index → session), KEYS[2] the session's failed-frames set of the job
 * ARGV[1] frame index, ARGV[2] session id, ARGV[3] keep ms
 */
const holdBlackCandidate = new LuaScript(
  "holdBlackCandidate",
  `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
`,
);

/** Black-frame candidates of SheepIt uploads, in Redis beside the scheduler's failure lists. */
export class RedisBlackFrames implements BlackFrameStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly keepMs: number,
  ) {}

  private key(jobId: string) {
    return this.keys.other("sheepit", "black", jobId);
  }

  async candidate(jobId: string, index: number): Promise<string | null> {
    return this.redis.hget(this.key(jobId), String(index));
  }

  async hold(jobId: string, index: number, sessionId: string): Promise<void> {
    await holdBlackCandidate.run(
      this.redis,
      [this.key(jobId), this.keys.sessionFailedFrames(jobId, sessionId)],
      [index, sessionId, this.keepMs],
    );
  }

  async clear(jobId: string, index: number): Promise<void> {
    await this.redis.hdel(this.key(jobId), String(index));
  }
}
