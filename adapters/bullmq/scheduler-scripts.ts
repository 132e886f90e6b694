import { LuaScript } from "../redis/lua-script.js";
import { READY_SCORE } from "./ready-index-scripts.js";

/**
 * The farm's own atomic state changes around BullMQ's. BullMQ owns each frame's place in line and
 * its lock; these scripts own which job a claim goes to and the bookkeeping that follows a claim,
 * a completion, a failure or a release. Frame state strings in the job's frames hash are
 * `state|session|lease|time` with state `a` (active), `c` (completed), `s` (soft-failed, back in
 * line), `f` (failed), `q` (released, back in line).
 */

/**
 * setRunnable: puts a job among the runnable ones at its priority, or takes it out, and into the
 * ready index the claim walks (or out of it). A job that becomes runnable starts with the fewest
 * frames served among the runnable jobs, so it shares fairly with jobs that were there before it
 * instead of catching up on their whole history. The least-served job is the head of the
 * served-rank zset: O(log n), not a pass over the jobs.
 *
 * KEYS[1] runnable zset, KEYS[2] served hash, KEYS[3] job hash, KEYS[4] served-rank zset,
 * KEYS[5] ready zset
 * ARGV[1] job id, ARGV[2] 1 to make runnable, 0 to remove
 */
export const setRunnable = new LuaScript(
  "setRunnable",
  `${READY_SCORE}
local jid = ARGV[1]
if ARGV[2] == '0' then
  redis.call('ZREM', KEYS[1], jid)
  redis.call('ZREM', KEYS[4], jid)
  redis.call('ZREM', KEYS[5], jid)
  return 0
end
local prio = redis.call('HGET', KEYS[3], 'priority')
if not prio then return -1 end
if redis.call('ZSCORE', KEYS[1], jid) == false then
  local head = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  local least = 0
  if head[2] then least = tonumber(head[2]) end
  redis.call('HSET', KEYS[2], jid, least)
  redis.call('ZADD', KEYS[4], least, jid)
end
redis.call('ZADD', KEYS[1], prio, jid)
redis.call('ZADD', KEYS[5], readyScore(prio, redis.call('HGET', KEYS[2], jid)), jid)
return 1
`,
);

/**
 * requeueCounters: frames go back in line for another round (job requeued): completed and failed
 * counts drop by the frames that had those states, their states clear, and the job returns to its
 * render phase with its video task to run again. A frame at or past the job's materialisation
 * cursor (`enq`, frame-window-script.ts) is then in line already (the claims will materialise
 * it); the others are returned, for the caller to put back in line as BullMQ jobs.
 *
 * KEYS[1] job hash, KEYS[2] frame states hash, KEYS[3] scheduling hash
 * ARGV indices
 * Returns {completed, failed, indices to put back in line}.
 */
export const requeueCounters = new LuaScript(
  "requeueCounters",
  `
local completed, failed = 0, 0
local enq = tonumber(redis.call('HGET', KEYS[3], 'enq') or '')
local back = {}
for _, idx in ipairs(ARGV) do
  if enq == nil or tonumber(idx) < enq then table.insert(back, idx) end
  local st = redis.call('HGET', KEYS[2], idx)
  if st then
    local c = string.sub(st, 1, 1)
    if c == 'c' then completed = completed + 1 elseif c == 'f' then failed = failed + 1 end
    redis.call('HDEL', KEYS[2], idx)
  end
end
if completed > 0 then redis.call('HINCRBY', KEYS[1], 'completed', -completed) end
if failed > 0 then redis.call('HINCRBY', KEYS[1], 'failed', -failed) end
redis.call('HSET', KEYS[1], 'videostate', '')
redis.call('HSET', KEYS[3], 'phase', 'render', 'tasktype', redis.call('HGET', KEYS[1], 'tasktype') or 'blender')
return {completed, failed, back}
`,
);
