import { createHash } from "node:crypto";
import type { ChainableCommander, Redis } from "ioredis";

/**
 * `int(n)`: a whole Lua number as the decimal string Redis is given. Redis 7.0 turns a Lua number
 * passed to `redis.call` into text with `snprintf("%.17g")`, the costliest step of such a call;
 * `%d` is cheap. Scripts that pass computed numbers to Redis start with this.
 */
export const LUA_INT = "local function int(n) return string.format('%d', n) end\n";

/**
 * A named Lua script: one atomic state change of the farm. Runs by SHA and loads itself on a
 * NOSCRIPT answer, so a restarted or failed-over Redis needs nothing else.
 */
export class LuaScript {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run<T = unknown>(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<T> {
    try {
      return (await redis.evalsha(this.sha, keys.length, ...keys, ...args)) as T;
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes("NOSCRIPT")) throw err;
      return (await redis.eval(this.source, keys.length, ...keys, ...args)) as T;
    }
  }

  /** Adds the script to a pipeline or transaction (use `run` once first so it is loaded). */
  queue(pipe: ChainableCommander, keys: readonly string[], args: ReadonlyArray<string | number>): ChainableCommander {
    return pipe.eval(this.source, keys.length, ...keys, ...args);
  }
}
