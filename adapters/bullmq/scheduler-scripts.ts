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
 * recordClaim: writes the lease, adds it to the session's and the job's leases, marks its frames
 * active, counts them as served (fair share) and as attempts, and marks a queued job active.
 *
 * KEYS[1] lease hash, KEYS[2] session leases set, KEYS[3] job hash, KEYS[4] frame states hash,
 * KEYS[5] job leases zset, KEYS[6] served hash, KEYS[7] attempts hash (frame index → times handed out),
 * KEYS[8] served-rank zset
 * ARGV[1] lease id, ARGV[2] job id, ARGV[3] session id, ARGV[4] phase, ARGV[5] frames (comma
 * list), ARGV[6] indices (comma list), ARGV[7] task type, ARGV[8] now ISO, ARGV[9] now ms,
 * ARGV[10] lease ms
 * Returns the lease's attempt: the most times any of its frames has been handed out, this one included.
 */
export const recordClaim = new LuaScript(
  "recordClaim",
  `
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'job', ARGV[2], 'session', ARGV[3], 'phase', ARGV[4],
  'frames', ARGV[5], 'indices', ARGV[6], 'tasktype', ARGV[7], 'created', ARGV[8], 'updated', ARGV[8],
  'leasems', ARGV[10], 'state', 'active')
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[9], ARGV[1])
local n = 0
local attempt = 0
for idx in string.gmatch(ARGV[6], '[^,]+') do
  redis.call('HSET', KEYS[4], idx, 'a|' .. ARGV[3] .. '|' .. ARGV[1] .. '|' .. ARGV[9])
  attempt = math.max(attempt, redis.call('HINCRBY', KEYS[7], idx, 1))
  n = n + 1
end
if ARGV[4] == 'video' then
  redis.call('HSET', KEYS[3], 'videostate', 'active')
  attempt = redis.call('HINCRBY', KEYS[7], 'video', 1)
  n = 1
end
redis.call('HSET', KEYS[1], 'attempt', attempt)
redis.call('HINCRBY', KEYS[6], ARGV[2], n)
if redis.call('ZSCORE', KEYS[8], ARGV[2]) then redis.call('ZINCRBY', KEYS[8], n, ARGV[2]) end
local status = redis.call('HGET', KEYS[3], 'status')
if status == 'queued' or status == 'requeued' then
  redis.call('HSET', KEYS[3], 'status', 'active', 'updated', ARGV[8])
end
return attempt
`,
);

/**
 * recordCompletion: marks frames completed (each once), counts them on the job, completes the
 * video task, closes the lease when nothing of it is left.
 *
 * KEYS[1] job hash, KEYS[2] frame states hash, KEYS[3] lease hash, KEYS[4] session leases set
 * ARGV[1] session id, ARGV[2] lease id, ARGV[3] phase, ARGV[4] now ISO, ARGV[5] now ms,
 * ARGV[6] 1 when the whole lease is done, ARGV[7..] indices completed
 * Returns {newlyCompleted, completed, failed, total, framesJustFinished(0/1)}
 */
export const recordCompletion = new LuaScript(
  "recordCompletion",
  `
local newly = 0
for k = 7, #ARGV do
  local idx = ARGV[k]
  local st = redis.call('HGET', KEYS[2], idx)
  if not st or string.sub(st, 1, 1) ~= 'c' then
    redis.call('HSET', KEYS[2], idx, 'c|' .. ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[5])
    newly = newly + 1
  end
end
local before = tonumber(redis.call('HGET', KEYS[1], 'completed') or '0')
local completed = before
if newly > 0 then completed = redis.call('HINCRBY', KEYS[1], 'completed', newly) end
if ARGV[3] == 'video' then redis.call('HSET', KEYS[1], 'videostate', 'completed') end
redis.call('HSET', KEYS[1], 'updated', ARGV[4])
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[3], 'state', 'completed', 'updated', ARGV[4])
  redis.call('SREM', KEYS[4], ARGV[2])
end
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '0')
local failed = tonumber(redis.call('HGET', KEYS[1], 'failed') or '0')
local just = 0
if before < total and completed >= total then just = 1 end
return {newly, completed, failed, total, just}
`,
);

/**
 * recordFailure: the session joins the failure list of each frame; its failures in the job are
 * counted once per lease and past the threshold it is blocklisted from the job; frames that
 * failed for good are counted on the job. Closes the lease.
 *
 * KEYS[1] job hash, KEYS[2] frame states hash, KEYS[3] lease hash, KEYS[4] session leases set,
 * KEYS[5] failure counts hash, KEYS[6] session failed frames set, KEYS[7] blocklist set
 * ARGV[1] session id, ARGV[2] lease id, ARGV[3] now ISO, ARGV[4] now ms, ARGV[5] blocklist
 * threshold, ARGV[6] retried indices (comma list), ARGV[7] failed-for-good indices (comma list),
 * ARGV[8] phase
 * Returns {failed, total, blocklisted(0/1)}
 */
export const recordFailure = new LuaScript(
  "recordFailure",
  `
local sid = ARGV[1]
local stamp = '|' .. sid .. '|' .. ARGV[2] .. '|' .. ARGV[4]
for idx in string.gmatch(ARGV[6], '[^,]+') do
  redis.call('SADD', KEYS[6], idx)
  redis.call('HSET', KEYS[2], idx, 's' .. stamp)
end
local newlyFailed = 0
for idx in string.gmatch(ARGV[7], '[^,]+') do
  redis.call('SADD', KEYS[6], idx)
  local st = redis.call('HGET', KEYS[2], idx)
  if not st or string.sub(st, 1, 1) ~= 'f' then
    redis.call('HSET', KEYS[2], idx, 'f' .. stamp)
    newlyFailed = newlyFailed + 1
  end
end
if ARGV[8] == 'video' and ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'videostate', 'failed') end
if ARGV[8] == 'video' and ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'videostate', 'queued') end
local failed = tonumber(redis.call('HGET', KEYS[1], 'failed') or '0')
if newlyFailed > 0 then failed = redis.call('HINCRBY', KEYS[1], 'failed', newlyFailed) end
local blocked = 0
if sid ~= '' and redis.call('HGET', KEYS[3], 'state') == 'active' then
  local n = redis.call('HINCRBY', KEYS[5], sid, 1)
  if n >= tonumber(ARGV[5]) then
    redis.call('SADD', KEYS[7], sid)
    blocked = 1
  end
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  local st = 'soft-failed'
  if ARGV[7] ~= '' then st = 'failed' end
  redis.call('HSET', KEYS[3], 'state', st, 'updated', ARGV[3])
end
redis.call('SREM', KEYS[4], ARGV[2])
redis.call('HSET', KEYS[1], 'updated', ARGV[3])
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '0')
return {failed, total, blocked}
`,
);

/**
 * recordRelease: frames go back in line with no failure counted (sign-off, logout, timeout of
 * the client, job canceled); closes the lease with the given state.
 *
 * KEYS[1] frame states hash, KEYS[2] lease hash, KEYS[3] session leases set, KEYS[4] job hash
 * ARGV[1] lease id, ARGV[2] now ISO, ARGV[3] phase, ARGV[4] lease state, ARGV[5..] indices
 */
export const recordRelease = new LuaScript(
  "recordRelease",
  `
for k = 5, #ARGV do
  local st = redis.call('HGET', KEYS[1], ARGV[k])
  if st and string.sub(st, 1, 1) == 'a' then redis.call('HSET', KEYS[1], ARGV[k], 'q||' .. ARGV[1] .. '|') end
end
if ARGV[3] == 'video' then redis.call('HSET', KEYS[4], 'videostate', 'queued') end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'state', ARGV[4], 'updated', ARGV[2])
end
redis.call('SREM', KEYS[3], ARGV[1])
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

/**
 * sweepJob: one job's part of the scheduler's sweep. Lists the job's frames that are out (BullMQ's
 * active list) under a token whose lease is missing or no longer active — a claim, completion,
 * failure or release whose BullMQ step never ran or whose answer was lost — once the frame has
 * been out for `grace` ms (so a claim in flight is left alone). Drops the job from the engaged set
 * when nothing of it is out and it was not claimed for `idle` ms; otherwise moves it to the back of
 * the sweep's rotation.
 *
 * KEYS[1] BullMQ active list, KEYS[2] scheduling hash, KEYS[3] engaged zset, KEYS[4] frame
 * states hash, KEYS[5] job hash
 * ARGV[1] BullMQ key prefix of the job's queue (`{bw}:job-<id>:`), ARGV[2] key root, ARGV[3] now
 * ms, ARGV[4] grace ms, ARGV[5] idle ms, ARGV[6] job id
 * Returns a flat list: bullId, token, state letter of the frame (c, f or other), ...
 */
export const sweepJob = new LuaScript(
  "sweepJob",
  `
local now = tonumber(ARGV[3])
local ids = redis.call('LRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local tok = redis.call('GET', ARGV[1] .. id .. ':lock')
  if tok then
    local st = redis.call('HGET', ARGV[2] .. ':lease:' .. tok, 'state')
    if st ~= 'active' then
      local at = tonumber(redis.call('HGET', ARGV[1] .. id, 'processedOn') or '0') or 0
      if at < now - tonumber(ARGV[4]) then
        local letter = ''
        if id == 'video' then
          local vs = redis.call('HGET', KEYS[5], 'videostate') or ''
          if vs == 'completed' then letter = 'c' elseif vs == 'failed' then letter = 'f' end
        else
          local fs = redis.call('HGET', KEYS[4], string.sub(id, 2))
          if fs then letter = string.sub(fs, 1, 1) end
        end
        table.insert(out, id)
        table.insert(out, tok)
        table.insert(out, letter)
      end
    end
  end
end
if #ids == 0 then
  local last = tonumber(redis.call('HGET', KEYS[2], 'lastclaim') or '0') or 0
  if last < now - tonumber(ARGV[5]) then
    redis.call('ZREM', KEYS[3], ARGV[6])
    return out
  end
end
redis.call('ZADD', KEYS[3], 'XX', now, ARGV[6])
return out
`,
);
