import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import type { Redis } from "ioredis";
import { flamencoTimestamp } from "../../src/domain/jobs/job-types-v3.js";
import type { OutputMover } from "../../src/domain/jobs/move-to-final.js";
import type { Keys } from "../redis/keys.js";
import { LuaScript } from "../redis/lua-script.js";

/** Deletes a lock only when it still holds this process's token. KEYS[1] lock, ARGV[1] token. */
const releaseLock = new LuaScript(
  "releaseMoveLock",
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);

/** Forgets a noted job unless it was noted again since. KEYS[1] noted zset, ARGV[1] job id, ARGV[2] when it was noted. */
const forgetIfUnchanged = new LuaScript(
  "forgetFinalMove",
  `
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`,
);

/** How long one move may hold its lock (a rename takes milliseconds; a dead process's lock runs out). */
const LOCK_MS = 120_000;

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? "";
}

/**
 * The OutputMover port on the local (or mounted) storage: `rename(2)` of the intermediate folder
 * onto the final one, under a Redis lock per job so gateways sharing the farm never move one job's
 * output twice. A final folder that exists is first renamed to `<dest>-<its mtime>` (`-2`, `-3`
 * ... when that is taken), as Flamenco 3's `move-directory` does. Jobs that end with a move and
 * whose work was handed out are noted in a sorted set by when (`{bw}:final-moves:out`), so the
 * sweep reads only those, oldest first.
 */
export class FinalOutputMover implements OutputMover {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async exclusive(jobId: string, fn: () => Promise<void>): Promise<boolean> {
    const key = this.keys.sweepLock(`move-to-final:${jobId}`);
    const token = randomBytes(12).toString("hex");
    if ((await this.redis.set(key, token, "PX", LOCK_MS, "NX")) !== "OK") return false;
    try {
      await fn();
    } finally {
      await releaseLock.run(this.redis, [key], [token]).catch(() => undefined);
    }
    return true;
  }

  private notedKey(): string {
    return this.keys.other("final-moves", "out");
  }

  async note(jobId: string, now = Date.now()): Promise<void> {
    await this.redis.zadd(this.notedKey(), now, jobId);
  }

  async forget(jobId: string, at?: number): Promise<void> {
    if (at === undefined) await this.redis.zrem(this.notedKey(), jobId);
    else await forgetIfUnchanged.run(this.redis, [this.notedKey()], [jobId, at]);
  }

  async noted(before: number, limit: number): Promise<Array<{ jobId: string; at: number }>> {
    const flat = await this.redis.zrangebyscore(this.notedKey(), "-inf", `(${before}`, "WITHSCORES", "LIMIT", 0, limit);
    const out: Array<{ jobId: string; at: number }> = [];
    for (let k = 0; k + 1 < flat.length; k += 2) out.push({ jobId: flat[k] as string, at: Number(flat[k + 1]) });
    return out;
  }

  async moveDirectory(src: string, dest: string): Promise<"moved" | "nothing"> {
    try {
      await fs.lstat(src);
    } catch (err) {
      if (code(err) === "ENOENT") return "nothing";
      throw err;
    }
    const existing = await fs.lstat(dest).catch((err) => {
      if (code(err) === "ENOENT") return null;
      throw err;
    });
    if (existing) await this.moveAside(dest, existing.mtime);
    await fs.rename(src, dest);
    return "moved";
  }

  private async moveAside(dest: string, mtime: Date): Promise<void> {
    const base = `${dest}-${flamencoTimestamp(mtime)}`;
    for (let n = 1; n < 1000; n++) {
      const aside = n === 1 ? base : `${base}-${n}`;
      const taken = await fs.lstat(aside).then(
        () => true,
        (err) => (code(err) === "ENOENT" ? false : Promise.reject(err)),
      );
      if (!taken) {
        await fs.rename(dest, aside);
        return;
      }
    }
    throw new Error(`no free name to move ${dest} aside`);
  }
}
