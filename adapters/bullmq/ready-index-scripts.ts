import { LuaScript } from "../redis/lua-script.js";

/** The ready index (`{bw}:sched:ready`): runnable jobs that may have frames in line, best first. */

/**
 * Score of a job in the ready index: higher priority first, then fewest frames served (fair
 * share), then job id (Redis orders equal scores by member). Priorities are 0..1,000,000. The
 * score is answered as the integer string ZADD is given (not a Lua number Redis would format
 * with %.17g).
 */
export const READY_SCORE = `
local function readyScore(prio, served)
  local p = math.max(0, math.min(1000000, tonumber(prio) or 0))
  local s = math.max(0, math.min(4294967295, tonumber(served) or 0))
  return string.format('%d', (1000000 - p) * 4294967296 + s)
end
`;

/**
 * markReady: puts a runnable job (back) in the ready index, at its priority and frames served;
 * called by whatever puts frames in line (enqueue, fill, release, retry, stall, requeue, video).
 * Idempotent; a job that is not runnable is left out.
 *
 * KEYS[1] ready zset, KEYS[2] runnable zset, KEYS[3] served hash
 * ARGV[1] job id
 */
export const markReady = new LuaScript(
  "markReady",
  `${READY_SCORE}
local prio = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not prio then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], readyScore(prio, redis.call('HGET', KEYS[3], ARGV[1])), ARGV[1])
return 1
`,
);
