import { JOB_LIVE_FIELDS_COUNT, JOB_LIVE_FIELDS_INDEX, JOB_LIVE_FIELDS_LUA } from "../redis/job-records.js";
import { LUA_INT, LuaScript } from "../redis/lua-script.js";

/**
 * The atomic steps of a lease after its claim (claim-script.ts): completion, failure, release,
 * and the sweep's look at one job. Each is one named script that checks BullMQ's lock itself,
 * runs before BullMQ's own step, and is safe to run again after an
 * answer lost with the connection: a step half done on the client side never leaves Redis half
 * done, and what BullMQ did not do yet the sweep or the next claim finishes (docs/architecture.md,
 * "Claims across reconnects"). Frame state strings in the job's frames hash are
 * `state|session|lease|time` with state `a` (active), `c` (completed), `s` (soft-failed, back in
 * line), `f` (failed), `q` (released, back in line).
 */

/**
 * recordCompletion: marks frames completed (each once), counts them on the job, completes the
 * video task, closes the lease when nothing of it is left, and decides inside the script which
 * frames the caller may complete: in mode `lease`, frames locked under the lease id (or already
 * completed by this lease, a retry after a lost answer); in mode `late` (a frame delivered after
 * its lease ran out), frames nobody holds that BullMQ has not finished. In mode `lease` a frame
 * locked under the lease is also finished in BullMQ here, as BullMQ's `moveToFinished` does it
 * (lock, stalled set, active list, the job's keys: frames are `removeOnComplete`), so the farm's
 * books and BullMQ's move together. The video task and late frames are finished by BullMQ's own
 * calls after this; when those do not happen the sweep finishes them (`sweepJob`, `recordClaim`).
 *
 * KEYS[1] job hash, KEYS[2] frame states hash, KEYS[3] lease hash, KEYS[4] session leases set
 * ARGV[1] session id, ARGV[2] lease id, ARGV[3] phase, ARGV[4] now ISO, ARGV[5] now ms,
 * ARGV[6] BullMQ key prefix of the job's queue, ARGV[7] mode (lease|late), ARGV[8] 1 when these
 * are all the lease has left, ARGV[9..] indices to complete (none for the video)
 * Returns {newlyCompleted, completed, failed, total, framesJustFinished(0/1), accepted (comma list
 * of indices, or 'video'), the job's live fields as this left it (JOB_LIVE_FIELDS: the roll-up
 * that follows reads the job from here and the fixed fields the process remembers)}; in mode
 * `lease`, {-1} when the lease does not exist and {-2} when it is no longer
 * active or not the session's (nothing is recorded: the caller had it from memory, not a read).
 */
export const recordCompletion = new LuaScript(
  "recordCompletion",
  `${LUA_INT}
local prefix = ARGV[6]
local function acceptable(bid, idx)
  local lock = redis.call('GET', prefix .. bid .. ':lock')
  if ARGV[7] == 'late' then
    if lock then return false end
    if redis.call('EXISTS', prefix .. bid) == 0 then return false end
    return redis.call('HEXISTS', prefix .. bid, 'finishedOn') == 0
  end
  if lock == ARGV[2] then return true, true end
  local st = redis.call('HGET', KEYS[2], idx)
  return st ~= false and string.sub(st, 1, 1) == 'c' and string.find(st, '|' .. ARGV[2] .. '|', 1, true) ~= nil
end
-- What BullMQ's moveToFinished does for a frame completed under its lock (removeOnComplete, no
-- parent, no metrics; the queue's events stream is kept empty, so no event is added to it).
local function finish(bid)
  redis.call('SREM', prefix .. 'stalled', bid)
  redis.call('LREM', prefix .. 'active', '-1', bid)
  local key = prefix .. bid
  redis.call('DEL', key .. ':lock', key, key .. ':logs', key .. ':dependencies', key .. ':processed', key .. ':failed', key .. ':unsuccessful')
end
if ARGV[7] == 'lease' then
  local held = redis.call('HMGET', KEYS[3], 'state', 'session')
  if not held[1] then return {-1} end
  if held[1] ~= 'active' or held[2] ~= ARGV[1] then return {-2} end
end
local newly = 0
local accepted = {}
local wanted = 0
if ARGV[3] == 'video' then
  wanted = 1
  if acceptable('video', '-1') then table.insert(accepted, 'video') end
else
  for k = 9, #ARGV do
    wanted = wanted + 1
    local idx = ARGV[k]
    local bid = 'f' .. idx
    local ok, locked = acceptable(bid, idx)
    if ok then
      table.insert(accepted, idx)
      -- Under the lease's lock the frame is this lease's and not completed (only its claim sets
      -- that lock, and every completion deletes it); accepted otherwise in mode lease, it is
      -- already completed by this lease; in mode late its state is read.
      local st = false
      if locked then finish(bid)
      elseif ARGV[7] == 'lease' then st = 'c'
      else st = redis.call('HGET', KEYS[2], idx) end
      if not st or string.sub(st, 1, 1) ~= 'c' then
        redis.call('HSET', KEYS[2], idx, 'c|' .. ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[5])
        newly = newly + 1
      end
    end
  end
end
-- The job's live fields and its frame count, read once; what this writes is set in the answer too.
local live = redis.call('HMGET', KEYS[1], ${JOB_LIVE_FIELDS_LUA}, 'total')
local total = tonumber(live[${JOB_LIVE_FIELDS_COUNT} + 1] or '0')
live[${JOB_LIVE_FIELDS_COUNT} + 1] = nil
local before = tonumber(live[${JOB_LIVE_FIELDS_INDEX.completed}] or '0')
local failed = tonumber(live[${JOB_LIVE_FIELDS_INDEX.failed}] or '0')
local completed = before + newly
-- The count and the time in one call (the count was read above, in this same script).
if newly > 0 then
  live[${JOB_LIVE_FIELDS_INDEX.completed}] = int(completed)
  redis.call('HSET', KEYS[1], 'completed', live[${JOB_LIVE_FIELDS_INDEX.completed}], 'updated', ARGV[4])
elseif #accepted > 0 then redis.call('HSET', KEYS[1], 'updated', ARGV[4]) end
if #accepted > 0 then live[${JOB_LIVE_FIELDS_INDEX.updated}] = ARGV[4] end
if ARGV[3] == 'video' and #accepted > 0 then
  redis.call('HSET', KEYS[1], 'videostate', 'completed')
  live[${JOB_LIVE_FIELDS_INDEX.videostate}] = 'completed'
  redis.call('HSET', KEYS[2], '-1', 'c|' .. ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[5])
end
local whole = ARGV[8] == '1'
if ARGV[7] == 'late' then whole = false end
-- In mode lease the lease was found active above, and nothing here changed it.
if (whole or (ARGV[3] == 'video' and #accepted > 0)) and (ARGV[7] == 'lease' or redis.call('HGET', KEYS[3], 'state') == 'active') then
  redis.call('HSET', KEYS[3], 'state', 'completed', 'updated', ARGV[4])
  redis.call('SREM', KEYS[4], ARGV[2])
end
local just = 0
if before < total and completed >= total then just = 1 end
return {newly, completed, failed, total, just, table.concat(accepted, ','), live}
`,
);

/**
 * recordFailure: the session joins the failure list of each frame; its failures in the job are
 * counted once per lease and past the threshold it is blocklisted from the job; frames that
 * failed for good are counted on the job. Closes the lease. A frame already completed or failed
 * for good is left as it is (a stall noticed after a completion whose BullMQ step was lost).
 * In mode `lease` (a client's failure, before BullMQ's `moveToFailed`) only frames locked under
 * the lease id count, or already recorded failed by it (a retry after a lost answer); mode
 * `stall` (the sweep's stalled check) takes the frames as given.
 *
 * KEYS[1] job hash, KEYS[2] frame states hash, KEYS[3] lease hash, KEYS[4] session leases set,
 * KEYS[5] failure counts hash, KEYS[6] session failed frames set, KEYS[7] blocklist set
 * ARGV[1] session id, ARGV[2] lease id, ARGV[3] now ISO, ARGV[4] now ms, ARGV[5] blocklist
 * threshold, ARGV[6] retried indices (comma list), ARGV[7] failed-for-good indices (comma list),
 * ARGV[8] phase, ARGV[9] mode (lease|stall), ARGV[10] BullMQ key prefix of the job's queue
 * Returns {failed, total, blocklisted(0/1), accepted retried (comma list), accepted failed (comma list)}
 */
export const recordFailure = new LuaScript(
  "recordFailure",
  `
local sid = ARGV[1]
local stamp = '|' .. sid .. '|' .. ARGV[2] .. '|' .. ARGV[4]
local function acceptable(idx)
  local st = redis.call('HGET', KEYS[2], idx)
  local c = st and string.sub(st, 1, 1) or ''
  if ARGV[9] == 'stall' then return c ~= 'c' and c ~= 'f' end
  local bid = 'f' .. idx
  if idx == '-1' then bid = 'video' end
  if redis.call('GET', ARGV[10] .. bid .. ':lock') == ARGV[2] then return c ~= 'c' and c ~= 'f' or (c == 'f' and string.find(st, '|' .. ARGV[2] .. '|', 1, true) ~= nil) end
  return (c == 's' or c == 'f') and string.find(st, '|' .. ARGV[2] .. '|', 1, true) ~= nil
end
local retried, failedOk = {}, {}
for idx in string.gmatch(ARGV[6], '[^,]+') do
  if acceptable(idx) then
    table.insert(retried, idx)
    redis.call('SADD', KEYS[6], idx)
    redis.call('HSET', KEYS[2], idx, 's' .. stamp)
  end
end
local newlyFailed = 0
for idx in string.gmatch(ARGV[7], '[^,]+') do
  if acceptable(idx) then
    table.insert(failedOk, idx)
    redis.call('SADD', KEYS[6], idx)
    local st = redis.call('HGET', KEYS[2], idx)
    if not st or string.sub(st, 1, 1) ~= 'f' then
      redis.call('HSET', KEYS[2], idx, 'f' .. stamp)
      newlyFailed = newlyFailed + 1
    end
  end
end
if ARGV[8] == 'video' and #failedOk > 0 then redis.call('HSET', KEYS[1], 'videostate', 'failed') end
if ARGV[8] == 'video' and #retried > 0 then redis.call('HSET', KEYS[1], 'videostate', 'queued') end
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
if redis.call('HGET', KEYS[3], 'state') == 'active' then
  local st = 'soft-failed'
  if #failedOk > 0 then st = 'failed' end
  redis.call('HSET', KEYS[3], 'state', st, 'updated', ARGV[3])
end
redis.call('SREM', KEYS[4], ARGV[2])
redis.call('HSET', KEYS[1], 'updated', ARGV[3])
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '0')
return {failed, total, blocked, table.concat(retried, ','), table.concat(failedOk, ',')}
`,
);

/**
 * recordRelease: frames go back in line with no failure counted (sign-off, logout, timeout of
 * the client, job canceled); closes the lease with the given state. Runs before BullMQ's
 * `moveToWait` of the frames (the sweep finishes that when it does not happen).
 *
 * KEYS[1] frame states hash, KEYS[2] lease hash, KEYS[3] session leases set, KEYS[4] job hash
 * ARGV[1] lease id, ARGV[2] now ISO, ARGV[3] phase, ARGV[4] lease state, ARGV[5..] indices
 * Returns 1 when the lease was active (this call released it), else 0.
 */
export const recordRelease = new LuaScript(
  "recordRelease",
  `
if redis.call('HGET', KEYS[2], 'state') ~= 'active' then
  redis.call('SREM', KEYS[3], ARGV[1])
  return 0
end
for k = 5, #ARGV do
  local st = redis.call('HGET', KEYS[1], ARGV[k])
  if st and string.sub(st, 1, 1) == 'a' then redis.call('HSET', KEYS[1], ARGV[k], 'q||' .. ARGV[1] .. '|') end
end
if ARGV[3] == 'video' then redis.call('HSET', KEYS[4], 'videostate', 'queued') end
redis.call('HSET', KEYS[2], 'state', ARGV[4], 'updated', ARGV[2])
redis.call('SREM', KEYS[3], ARGV[1])
return 1
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
 * states hash
 * ARGV[1] BullMQ key prefix of the job's queue (`{bw}:job-<id>:`), ARGV[2] key root, ARGV[3] now
 * ms, ARGV[4] grace ms, ARGV[5] idle ms, ARGV[6] job id
 * Returns a flat list: bullId, token, the frame's state letter when it was set under that token
 * (c completed, s soft-failed, f failed for good, q released, a active) or '', ...
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
        local field = string.sub(id, 2)
        if id == 'video' then field = '-1' end
        local fs = redis.call('HGET', KEYS[4], field)
        if fs and string.find(fs, '|' .. tok .. '|', 1, true) then letter = string.sub(fs, 1, 1) end
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
