import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { OutputClaim } from "../../src/domain/jobs/job-validation.js";
import type { OutputClaims } from "../../src/domain/jobs/output-claims.js";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

/** Job statuses whose frame paths are free again. */
const FINISHED = ",completed,canceled,failed,archived,construction-failed,";

/**
 * claimOutput: KEYS[1] the hash prefix → job id of one output folder. ARGV: job id, prefix, the
 * key start of job records, finished statuses. A clashing prefix (one starts with the other) held
 * by another job whose record still exists in an unfinished status wins (its id is answered);
 * one held by a finished or deleted job is dropped. Then the prefix is the job's.
 */
const claimOutput = new LuaScript(
  "claimOutput",
  `
local all = redis.call('HGETALL', KEYS[1])
local mine = ARGV[2]
for i = 1, #all, 2 do
  local p, holder = all[i], all[i + 1]
  if holder ~= ARGV[1] and (string.sub(p, 1, #mine) == mine or string.sub(mine, 1, #p) == p) then
    local st = redis.call('HGET', ARGV[3] .. holder, 'status')
    if st and not string.find(ARGV[4], ',' .. st .. ',', 1, true) then return holder end
    redis.call('HDEL', KEYS[1], p)
  end
end
redis.call('HSET', KEYS[1], mine, ARGV[1])
return false
`,
);

/** releaseOutput: drops the prefix ARGV[2] of KEYS[1] when job ARGV[1] holds it. */
const releaseOutput = new LuaScript(
  "releaseOutput",
  "if redis.call('HGET', KEYS[1], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[1], ARGV[2]) end return 1",
);

/** Claims of frame paths in Redis: one hash per output folder (`{bw}:outputs:<sha1 of the folder>`). */
export class RedisOutputClaims implements OutputClaims {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  private key(dir: string): string {
    return this.keys.other("outputs", createHash("sha1").update(dir).digest("hex"));
  }

  async claim(jobId: string, c: OutputClaim): Promise<string | null> {
    const holder = await claimOutput.run<string | null>(
      this.redis,
      [this.key(c.dir)],
      [jobId, c.prefix, `${this.keys.job("")}`, FINISHED],
    );
    return holder || null;
  }

  async release(jobId: string, c: OutputClaim): Promise<void> {
    await releaseOutput.run(this.redis, [this.key(c.dir)], [jobId, c.prefix]);
  }
}
