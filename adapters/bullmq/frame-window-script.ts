import { LUA_INT, LuaScript } from "../redis/lua-script.js";

/**
 * A job's frames are not all BullMQ jobs at once (docs/architecture.md, "Frames in Redis only as
 * needed"). The frames not yet materialised are a cursor over the job's frame list: `enq` (the
 * next index to put in line) and `enqrun` (the run it falls in) in the scheduling hash
 * (`{bw}:sched:<job>`), over the list's runs (`{bw}:sched:<job>:runs`, field k →
 * `first,last,offset`: frames first..last, offset the index of `first`). Every index below `enq`
 * was put in line once; every index from `enq` on is in line implicitly, after all the others.
 *
 * topUp(root, jid, want, window, attempts, nowMs, h, count) materialises, from the cursor, as many
 * frames as bring the frames in line (wait + prioritized) to max(window, want), when fewer than
 * `want` or than half the window are in line (so it runs once per half window, not per claim).
 * `attempts` and `nowMs` are strings (as written); `h` (the cursor fields `enq`, `total`, `enqrun`)
 * and `count` (frames in line) are what the caller already read, or nil. Each frame is
 * written exactly as BullMQ's `addPrioritizedJob` writes a job added with
 * `{ jobId: 'f<i>', priority: i + 1, attempts, removeOnComplete: true, removeOnFail: false }`:
 * the job hash (name, data, opts, timestamp, delay, priority), its place in `prioritized` (score
 * priority * 2^32 + the `pc` counter) and the queue's marker; not written: the `added` and
 * `waiting` events (nobody reads the queue's event stream). A frame that already has a state or a
 * BullMQ job (put back in line by a requeue) is skipped. The states of a batch of frames are read
 * in one call, BullMQ's priority counter once, the frames put in line with one ZADD: a frame costs
 * two calls (EXISTS, HSET), not five. Returns the number of frames added. Needs LUA_INT before it.
 */
export const TOP_UP = `
local function topUp(root, jid, want, window, attempts, nowMs, h, count)
  local sched = root .. ':sched:' .. jid
  if h == nil then h = redis.call('HMGET', sched, 'enq', 'total', 'enqrun') end
  local enq, total = tonumber(h[1] or ''), tonumber(h[2] or '')
  if enq == nil or total == nil or enq >= total then return 0 end
  local q = root .. ':job-' .. jid .. ':'
  if count == nil then count = redis.call('LLEN', q .. 'wait') + redis.call('ZCARD', q .. 'prioritized') end
  if count >= want and count * 2 >= window then return 0 end
  local target = math.max(window, want) - count
  local runs = sched .. ':runs'
  local k = tonumber(h[3] or '0') or 0
  local first, last, offset
  local function readRun()
    local r = redis.call('HGET', runs, int(k))
    if not r then return false end
    local a, b, o = string.match(r, '^(-?%d+),(-?%d+),(%d+)$')
    first, last, offset = tonumber(a), tonumber(b), tonumber(o)
    return first ~= nil
  end
  if not readRun() then return 0 end
  local states = root .. ':job:' .. jid .. ':frames'
  local optsTail = '","removeOnComplete":true,"removeOnFail":false,"attempts":' .. attempts .. '}'
  -- BullMQ's priority counter, read once and written once (BullMQ INCRs it per job added).
  local pc = tonumber(redis.call('GET', q .. 'pc') or '0') or 0
  local added, looked, ended = 0, 0, false
  local zargs = {}
  while not ended and added < target and enq < total and looked < target + 1000 do
    -- The next candidates, their frame numbers from the runs, and their states in one call.
    local batch, fs = {}, {}
    local n = math.min(target - added, total - enq, target + 1000 - looked, 256)
    while #batch < n do
      local f = first + (enq - offset)
      while f > last do
        k = k + 1
        if not readRun() then
          k = k - 1
          ended = true
          break
        end
        f = first + (enq - offset)
      end
      if ended then break end
      table.insert(batch, int(enq))
      table.insert(fs, f)
      enq = enq + 1
    end
    if #batch == 0 then break end
    local has = redis.call('HMGET', states, unpack(batch))
    for j, es in ipairs(batch) do
      looked = looked + 1
      local id = 'f' .. es
      if has[j] == false and redis.call('EXISTS', q .. id) == 0 then
        local e = tonumber(es)
        local p = int(e + 1)
        redis.call('HSET', q .. id, 'name', 'frame', 'data', '{"i":' .. es .. ',"f":' .. int(fs[j]) .. '}',
          'opts', '{"priority":' .. p .. ',"jobId":"' .. id .. optsTail,
          'timestamp', nowMs, 'delay', '0', 'priority', p)
        pc = pc + 1
        table.insert(zargs, int((e + 1) * 4294967296 + pc % 4294967296))
        table.insert(zargs, id)
        added = added + 1
        if #zargs >= 512 then
          redis.call('ZADD', q .. 'prioritized', unpack(zargs))
          zargs = {}
        end
      end
    end
  end
  if #zargs > 0 then redis.call('ZADD', q .. 'prioritized', unpack(zargs)) end
  redis.call('HSET', sched, 'enq', int(enq), 'enqrun', int(k))
  if added > 0 then
    redis.call('SET', q .. 'pc', int(pc))
    redis.call('ZADD', q .. 'marker', '0', '0')
  end
  if enq >= total then redis.call('SREM', root .. ':sched:filling', jid) end
  return added
end
`;

/**
 * topUpFrames: `topUp` from outside a claim (a job just enqueued, the sweep), only for a job that
 * is runnable (a paused job's frames wait unmaterialised) unless ARGV[7] is 0.
 *
 * KEYS[1] runnable zset
 * ARGV[1] key root, ARGV[2] job id, ARGV[3] want, ARGV[4] window, ARGV[5] attempts, ARGV[6] now
 * ms, ARGV[7] 1 to require the job to be runnable
 * Returns the number of frames added, -1 when the job is not runnable.
 */
export const topUpFrames = new LuaScript(
  "topUpFrames",
  `${LUA_INT}${TOP_UP}
if ARGV[7] == '1' and redis.call('ZSCORE', KEYS[1], ARGV[2]) == false then return -1 end
return topUp(ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6], nil, nil)
`,
);

/**
 * rewindFrames: the cursor goes back to the start of the frame list (a finished job requeued
 * whole), so its frames are materialised again as claims need them instead of all at once. Only
 * for a job that is not runnable (no claim or sweep tops it up while its states are cleared).
 *
 * KEYS[1] scheduling hash, KEYS[2] runnable zset, KEYS[3] filling set
 * ARGV[1] job id
 * Returns 1 when rewound, 0 when the job is runnable or has no cursor.
 */
export const rewindFrames = new LuaScript(
  "rewindFrames",
  `
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
if redis.call('HEXISTS', KEYS[1], 'enqrun') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'enq', 0, 'enqrun', 0)
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`,
);
