import { JOB_FIXED_FIELDS_LUA, JOB_LIVE_FIELDS_LUA } from "../redis/job-records.js";
import { LUA_INT, LuaScript } from "../redis/lua-script.js";
import { TOP_UP } from "./frame-window-script.js";
import { READY_SCORE } from "./ready-index-scripts.js";

/**
 * claimWork: one whole claim, atomically: picks the job (priority, fair share, capabilities,
 * blocklist), takes the frames from the head of its BullMQ queue, keeps the run of consecutive
 * frames the session may do, gives the others back to their places, locks the kept ones under
 * the lease id for the lease's duration and records the lease. Nothing of a claim can run
 * without the rest, and an answer lost with the connection leaves a recorded lease whose id the
 * caller knows (it gives it back).
 *
 * The frames are taken the way BullMQ's `moveToActive` takes a job of a queue that has no rate
 * limiter, no delayed jobs and no paused state (the farm uses none): `RPOPLPUSH wait active`,
 * else `ZPOPMIN prioritized` + `LPUSH active`; then the lock (`<job>:lock`, PX), `processedOn` and
 * `ats`, as `prepareJobForProcessing` does. BullMQ's own scripts complete, fail, extend, check
 * for stalls and retry these frames as they would a Worker's (adapters/bullmq/bullmq-interop.test.ts
 * holds the two to each other). Not written: the `active` event (nobody reads the queue's event
 * stream) and the worker marker (no blocking worker waits on these queues).
 *
 * The job is found in the ready index (`{bw}:sched:ready`: runnable jobs that may have frames in
 * line, by READY_SCORE), walked from the best; a job found with nothing in line leaves the index
 * (whoever puts frames back puts it back, `markReady`). At most `scan` jobs are looked at and
 * `candidates` tried, so a claim's cost does not grow with the number of jobs.
 *
 * A job's frames are materialised as BullMQ jobs only a window at a time (frame-window-script.ts):
 * before taking from a job the claim tops its window up (`topUp`), so it never finds the line
 * empty while frames of the job are not materialised yet; such a job counts as having frames in
 * line (it stays in the ready index).
 *
 * A frame taken that stalled too often (BullMQ's deferred failure `defa`) or that the farm's books
 * already hold completed or failed (its BullMQ step was lost) is set aside, locked under
 * `<lease id>:x`, for the caller to settle in BullMQ.
 *
 * KEYS[1] ready zset, KEYS[2] runnable zset, KEYS[3] served hash, KEYS[4] served-rank zset,
 * KEYS[5] engaged zset, KEYS[6] session leases set
 * ARGV[1] key root, ARGV[2] session id, ARGV[3] task types (comma list), ARGV[4] device, ARGV[5]
 * ram KB (-1 unknown), ARGV[6] vram bytes (-1 unknown), ARGV[7] render seconds max (-1 none),
 * ARGV[8] candidates, ARGV[9] frames per claim (0: the job's chunk size), ARGV[10] lease id,
 * ARGV[11] now ms, ARGV[12] now ISO, ARGV[13] lease ms, ARGV[14] scan limit, ARGV[15] frame
 * window, ARGV[16] BullMQ attempts of a frame, ARGV[17] the first line of the lease's log ("": none)
 * Returns {1, jobId, phase, taskType, frames, indices, attempt, aside, the job's live fields as
 * they are after the claim (HMGET of JOB_LIVE_FIELDS: the caller answers with them and the job's
 * fixed fields it remembers, adapters/redis/job-records.ts), on the job's first claim its fixed
 * fields (HMGET of JOB_FIXED_FIELDS, else false)} or {0, aside}; aside is a list of
 * `jobId|bullId|letter` (d deferred failure, c completed, f failed).
 *
 * What a call costs inside Redis is mostly per `redis.call` (about as much again as the command
 * itself), so the script makes as few as it can: the job's scheduling fields are read once for
 * the eligibility check, the line count and the top-up; the frame's `ats` is read with its data
 * and written with `processedOn`; the sweep's marks are written at most once a second per job.
 * Numbers are passed to Redis as strings (Redis 7.0 formats a Lua number with `%.17g`, the most
 * expensive step of a call with numeric arguments).
 */
export const claimWork = new LuaScript(
  "claimWork",
  `${LUA_INT}${READY_SCORE}${TOP_UP}
local root = ARGV[1]
local sid = ARGV[2]
local types = {}
for t in string.gmatch(ARGV[3], '[^,]+') do types[t] = true end
local device = ARGV[4]
local ram = tonumber(ARGV[5])
local vram = tonumber(ARGV[6])
local rtime = tonumber(ARGV[7])
local candidates = tonumber(ARGV[8])
local perClaim = tonumber(ARGV[9])
local leaseId = ARGV[10]
local nowMs = tonumber(ARGV[11])
-- Numbers go to Redis as the strings they came in as (Redis 7.0 formats a Lua number with %.17g).
local nowStr = ARGV[11]
local nowIso = ARGV[12]
local leaseMs = ARGV[13]
local scan = tonumber(ARGV[14])
local window = tonumber(ARGV[15])
local bullAttempts = ARGV[16]
local firstLog = ARGV[17] or ''
local aside = {}
local drop = {}

-- Frames in line, counting those not materialised yet (as 1 when the line itself is empty);
-- second, the length of the wait list (frames are prioritized: it is mostly empty); third, the
-- frames materialised in line. \`s\` is the job's scheduling fields as eligible() read them, or nil.
local function inLine(jid, s)
  local q = root .. ':job-' .. jid .. ':'
  local w = redis.call('LLEN', q .. 'wait')
  local n = w + redis.call('ZCARD', q .. 'prioritized')
  if n > 0 then return n, w, n end
  local enq, total
  if s then
    enq, total = tonumber(s[7] or ''), tonumber(s[8] or '')
  else
    local h = redis.call('HMGET', root .. ':sched:' .. jid, 'enq', 'total')
    enq, total = tonumber(h[1] or ''), tonumber(h[2] or '')
  end
  if enq ~= nil and total ~= nil and enq < total then return 1, 0, 0 end
  return 0, 0, 0
end

-- The job's scheduling fields when this session may take from it (1..6 what it needs and its
-- phase, 7..9 the materialisation cursor for topUp, 10 its last claim), else nil.
local function eligible(jid)
  local s = redis.call('HMGET', root .. ':sched:' .. jid, 'tasktype', 'device', 'ram', 'vram', 'time', 'phase',
    'enq', 'total', 'enqrun', 'lastclaim')
  if s[1] == false or types[s[1]] ~= true then return nil end
  if s[2] == 'gpu' and device == 'cpu' then return nil end
  if s[2] == 'cpu' and device == 'gpu' then return nil end
  if ram >= 0 and tonumber(s[3] or '0') > 0 and ram < tonumber(s[3]) then return nil end
  if vram >= 0 and device ~= 'cpu' and tonumber(s[4] or '0') > 0 and vram < tonumber(s[4]) then return nil end
  if rtime >= 0 and tonumber(s[5] or '0') > 0 and rtime < tonumber(s[5]) then return nil end
  if redis.call('SISMEMBER', root .. ':sched:' .. jid .. ':block', sid) == 1 then return nil end
  return s
end

-- BullMQ's prepareJobForProcessing: the lock, processedOn, and ats one up (read with the frame).
local function lock(q, g, token, ms)
  redis.call('SET', q .. g.id .. ':lock', token, 'PX', ms)
  redis.call('HSET', q .. g.id, 'processedOn', nowStr, 'ats', int(g.ats + 1))
end

local function takeFrom(jid, s, before, waiting, materialised)
  local q = root .. ':job-' .. jid .. ':'
  local phase = s[6] or 'render'
  local failedList = redis.call('SMEMBERS', root .. ':sched:' .. jid .. ':sfail:' .. sid)
  local failedBefore = {}
  for _, x in ipairs(failedList) do failedBefore[tonumber(x)] = true end
  local maxFrames = perClaim
  if maxFrames <= 0 then maxFrames = math.max(1, tonumber(redis.call('HGET', root .. ':job:' .. jid, 'chunk') or '1') or 1) end
  local want = maxFrames + #failedList
  if phase == 'video' then want = 1 else topUp(root, jid, want, window, bullAttempts, nowStr, {s[7], s[8], s[9]}, materialised) end
  local states = root .. ':job:' .. jid .. ':frames'
  local got = {}
  -- The wait list is not asked again once it was empty (a top-up adds to prioritized only).
  local waitEmpty = waiting == 0
  for n = 1, want do
    local id = false
    if not waitEmpty then
      id = redis.call('RPOPLPUSH', q .. 'wait', q .. 'active')
      while id and string.sub(id, 1, 2) == '0:' do
        redis.call('LREM', q .. 'active', 1, id)
        id = redis.call('RPOPLPUSH', q .. 'wait', q .. 'active')
      end
      if not id then waitEmpty = true end
    end
    local from = 'w'
    if not id then
      local z = redis.call('ZPOPMIN', q .. 'prioritized')
      if #z == 0 then
        redis.call('DEL', q .. 'pc')
        break
      end
      id = z[1]
      from = z[2]
      redis.call('LPUSH', q .. 'active', id)
    end
    local h = redis.call('HMGET', q .. id, 'data', 'defa', 'ats')
    if h[1] == false then
      redis.call('LREM', q .. 'active', 1, id)
    else
      local d = cjson.decode(h[1])
      table.insert(got, {id = id, from = from, i = tonumber(d.i) or -1, f = tonumber(d.f) or -1, defa = h[2],
        ats = tonumber(h[3] or '0') or 0})
    end
  end
  local keep, back = {}, {}
  table.sort(got, function(a, b) return a.i < b.i end)
  for _, g in ipairs(got) do
    local letter = nil
    if g.defa then letter = 'd'
    elseif g.id ~= 'video' then
      -- A frame's id is 'f' and its index: the index as a string, without formatting a number.
      g.si = string.sub(g.id, 2)
      local st = redis.call('HGET', states, g.si)
      if st then
        local c = string.sub(st, 1, 1)
        if c == 'c' or c == 'f' then letter = c end
      end
    end
    if letter then
      lock(q, g, leaseId .. ':x', '60000')
      table.insert(aside, jid .. '|' .. g.id .. '|' .. letter)
    elseif phase == 'video' then
      if g.id == 'video' and #keep == 0 then table.insert(keep, g) else table.insert(back, g) end
    else
      local last = keep[#keep]
      if g.id ~= 'video' and not failedBefore[g.i] and #keep < maxFrames and (last == nil or last.i + 1 == g.i) then
        table.insert(keep, g)
      else
        table.insert(back, g)
      end
    end
  end
  for k = #back, 1, -1 do
    local g = back[k]
    redis.call('LREM', q .. 'active', 1, g.id)
    if g.from == 'w' then redis.call('RPUSH', q .. 'wait', g.id) else redis.call('ZADD', q .. 'prioritized', g.from, g.id) end
  end
  -- Frames were in line before (\`before\`, materialised ones; a top-up only adds): a line
  -- longer than what was taken still has some, no need to look again.
  if before <= #got - #back and inLine(jid, nil) == 0 then table.insert(drop, jid) end
  if #keep == 0 then return nil end

  local frames, indices = {}, {}
  for _, g in ipairs(keep) do
    lock(q, g, leaseId, leaseMs)
    if phase ~= 'video' then
      table.insert(frames, int(g.f))
      table.insert(indices, g.si)
    end
  end
  local lease = root .. ':lease:' .. leaseId
  local job = root .. ':job:' .. jid
  local attempts = root .. ':job:' .. jid .. ':attempts'
  local attempt = 0
  local n = #indices
  local active = 'a|' .. sid .. '|' .. leaseId .. '|' .. nowStr
  for _, idx in ipairs(indices) do
    redis.call('HSET', states, idx, active)
    attempt = math.max(attempt, redis.call('HINCRBY', attempts, idx, '1'))
  end
  if phase == 'video' then
    redis.call('HSET', job, 'videostate', 'active')
    attempt = redis.call('HINCRBY', attempts, 'video', '1')
    n = 1
  end
  redis.call('HSET', lease, 'id', leaseId, 'job', jid, 'session', sid, 'phase', phase,
    'frames', table.concat(frames, ','), 'indices', table.concat(indices, ','), 'tasktype', s[1],
    'created', nowIso, 'updated', nowIso, 'leasems', leaseMs, 'state', 'active', 'attempt', int(attempt))
  if firstLog ~= '' then redis.call('SET', lease .. ':log', firstLog) end
  redis.call('SADD', KEYS[6], leaseId)
  redis.call('ZADD', root .. ':job:' .. jid .. ':leases', nowStr, leaseId)
  local served = redis.call('HINCRBY', KEYS[3], jid, int(n))
  -- XX: only where the job already is (one call each, not a look and then a write).
  redis.call('ZADD', KEYS[4], 'XX', 'INCR', int(n), jid)
  local prio = redis.call('ZSCORE', KEYS[2], jid)
  if prio then redis.call('ZADD', KEYS[1], 'XX', readyScore(prio, served), jid) end
  -- The sweep's marks (engaged set, last claim), written at most once a second per job: the sweep
  -- lets a job go only when nothing of it is out and its last claim is ENGAGED_IDLE_MS (60 s) old.
  local lastClaim = tonumber(s[10] or '0') or 0
  if lastClaim > nowMs or lastClaim <= nowMs - 1000 then
    redis.call('ZADD', KEYS[5], nowStr, jid)
    redis.call('HSET', root .. ':sched:' .. jid, 'lastclaim', nowStr)
  end
  -- The job's live fields are answered (the caller has the rest, which never changes); its
  -- status is read from them (a queued job's first claim makes it active).
  local rec = redis.call('HMGET', job, ${JOB_LIVE_FIELDS_LUA})
  if rec[2] == 'queued' or rec[2] == 'requeued' then
    redis.call('HSET', job, 'status', 'active', 'updated', nowIso)
    rec[2] = 'active'
    rec[3] = nowIso
  end
  -- A job's first claim answers its fixed fields too: no process but its submitter remembers
  -- them yet (a farm of one-frame jobs would cost every claim a read of them otherwise).
  local fixed = false
  if served == n then fixed = redis.call('HMGET', job, ${JOB_FIXED_FIELDS_LUA}) end
  return {1, jid, phase, s[1], table.concat(frames, ','), table.concat(indices, ','), attempt, rec, fixed}
end

local result = nil
local examined, tried, cursor = 0, 0, 0
while result == nil and examined < scan and tried < candidates do
  local ids = redis.call('ZRANGE', KEYS[1], cursor, cursor + 31)
  if #ids == 0 then break end
  for _, jid in ipairs(ids) do
    examined = examined + 1
    local s = eligible(jid)
    if s then
      local before, waiting, materialised = inLine(jid, s)
      if before == 0 then
        table.insert(drop, jid)
      else
        tried = tried + 1
        result = takeFrom(jid, s, before, waiting, materialised)
        if result then break end
      end
    end
    if tried >= candidates or examined >= scan then break end
  end
  cursor = cursor + #ids
end
for _, jid in ipairs(drop) do
  -- Re-checked: a job that still has frames in line stays (the claim may have given some back).
  if inLine(jid, nil) == 0 then redis.call('ZREM', KEYS[1], jid) end
end
if result then
  table.insert(result, 8, aside)
  return result
end
return {0, aside}
`,
);
