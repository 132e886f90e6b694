import { LuaScript } from "../redis/lua-script.js";

/**
 * The farm's own atomic state changes around BullMQ's. BullMQ owns each frame's place in line and
 * its lock; these scripts own which job a claim goes to and the bookkeeping that follows a claim,
 * a completion, a failure or a release. Frame state strings in the job's frames hash are
 * `state|session|lease|time` with state `a` (active), `c` (completed), `s` (soft-failed, back in
 * line), `f` (failed), `q` (released, back in line).
 */

/**
 * selectJobs: the jobs a claim may take frames from, best first: highest priority, then the one
 * served least (fair share). A job qualifies when its task type is one the session runs, its
 * device and memory and time needs are met, the session is not blocklisted, and BullMQ has frames
 * waiting for it. Reads only: one pass over the runnable jobs, whatever their frame counts.
 *
 * KEYS[1] runnable zset, KEYS[2] served hash
 * ARGV[1] key root, ARGV[2] session id, ARGV[3] task types (comma list), ARGV[4] device
 * (any|cpu|gpu), ARGV[5] ram KB (-1 unknown), ARGV[6] vram bytes (-1 unknown), ARGV[7] render
 * seconds max (-1 none), ARGV[8] how many candidates
 * Returns a flat list: jobId, phase, failedIndices(comma list), taskType, chunkSize, ...
 */
export const selectJobs = new LuaScript(
  "selectJobs",
  `
local root = ARGV[1]
local sid = ARGV[2]
local types = {}
for t in string.gmatch(ARGV[3], '[^,]+') do types[t] = true end
local device = ARGV[4]
local ram = tonumber(ARGV[5])
local vram = tonumber(ARGV[6])
local rtime = tonumber(ARGV[7])
local want = tonumber(ARGV[8])

local ids = redis.call('ZREVRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local out = {}
local found = 0
local i = 1
while i <= #ids and found < want do
  local prio = ids[i + 1]
  local group = {}
  local j = i
  while j <= #ids and ids[j + 1] == prio do
    local jid = ids[j]
    local s = redis.call('HMGET', root .. ':sched:' .. jid, 'tasktype', 'device', 'ram', 'vram', 'time', 'phase')
    local ok = s[1] ~= false and types[s[1]] == true
    if ok and redis.call('SISMEMBER', root .. ':sched:' .. jid .. ':block', sid) == 1 then ok = false end
    if ok and s[2] == 'gpu' and device == 'cpu' then ok = false end
    if ok and s[2] == 'cpu' and device == 'gpu' then ok = false end
    if ok and ram >= 0 and tonumber(s[3] or '0') > 0 and ram < tonumber(s[3]) then ok = false end
    if ok and vram >= 0 and device ~= 'cpu' and tonumber(s[4] or '0') > 0 and vram < tonumber(s[4]) then ok = false end
    if ok and rtime >= 0 and tonumber(s[5] or '0') > 0 and rtime < tonumber(s[5]) then ok = false end
    if ok then
      local q = root .. ':job-' .. jid
      local waiting = redis.call('LLEN', q .. ':wait') + redis.call('ZCARD', q .. ':prioritized')
      ok = waiting > 0
    end
    if ok then
      local served = tonumber(redis.call('HGET', KEYS[2], jid) or '0')
      table.insert(group, {jid, served, s[6] or 'render', s[1]})
    end
    j = j + 2
  end
  table.sort(group, function(a, b) if a[2] == b[2] then return a[1] < b[1] end return a[2] < b[2] end)
  for _, g in ipairs(group) do
    if found < want then
      local failed = redis.call('SMEMBERS', root .. ':sched:' .. g[1] .. ':sfail:' .. sid)
      table.insert(out, g[1])
      table.insert(out, g[3])
      table.insert(out, table.concat(failed, ','))
      table.insert(out, g[4])
      table.insert(out, redis.call('HGET', root .. ':job:' .. g[1], 'chunk') or '1')
      found = found + 1
    end
  end
  i = j
end
return out
`,
);

/**
 * setRunnable: puts a job among the runnable ones at its priority, or takes it out. A job that
 * becomes runnable starts with the fewest frames served among the runnable jobs, so it shares
 * fairly with jobs that were there before it instead of catching up on their whole history. The
 * least-served job is the head of the served-rank zset: O(log n), not a pass over the jobs.
 *
 * KEYS[1] runnable zset, KEYS[2] served hash, KEYS[3] job hash, KEYS[4] served-rank zset
 * ARGV[1] job id, ARGV[2] 1 to make runnable, 0 to remove
 */
export const setRunnable = new LuaScript(
  "setRunnable",
  `
local jid = ARGV[1]
if ARGV[2] == '0' then
  redis.call('ZREM', KEYS[1], jid)
  redis.call('ZREM', KEYS[4], jid)
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
return 1
`,
);

/**
 * requeueCounters: frames go back in line for another round (job requeued): completed and failed
 * counts drop by the frames that had those states, their states clear, and the job returns to its
 * render phase with its video task to run again.
 *
 * KEYS[1] job hash, KEYS[2] frame states hash, KEYS[3] scheduling hash
 * ARGV indices
 */
export const requeueCounters = new LuaScript(
  "requeueCounters",
  `
local completed, failed = 0, 0
for _, idx in ipairs(ARGV) do
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
return {completed, failed}
`,
);
