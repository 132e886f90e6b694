import { LuaScript } from "../redis/lua-script.js";

/**
 * requeueVideo: the job's video task goes back in line for another try (job requeued after its
 * video failed): a failed video stops counting as a failed task, its state clears, and the job
 * returns to its render phase, from which `startVideoIfAny` puts the video in line again once
 * every frame is completed (at once when they are).
 *
 * KEYS[1] job hash, KEYS[2] frame states hash, KEYS[3] scheduling hash
 * Returns 1 when the video had failed, else 0.
 */
export const requeueVideo = new LuaScript(
  "requeueVideo",
  `
local vs = redis.call('HGET', KEYS[1], 'videostate') or ''
if vs == 'completed' then return 0 end
local was = 0
local st = redis.call('HGET', KEYS[2], '-1')
if st and string.sub(st, 1, 1) == 'f' then
  redis.call('HINCRBY', KEYS[1], 'failed', -1)
  was = 1
end
redis.call('HDEL', KEYS[2], '-1')
redis.call('HSET', KEYS[1], 'videostate', '')
redis.call('HSET', KEYS[3], 'phase', 'render', 'tasktype', redis.call('HGET', KEYS[1], 'tasktype') or 'blender')
return was
`,
);

/**
 * clearFailureLists: what a job remembers of who failed it, forgotten (job requeued, as Flamenco
 * does): the job's blocklist, each session's failure count in the job and each session's list of
 * frames it failed, so the workers that failed before get the job's work again.
 *
 * KEYS[1] blocklist set, KEYS[2] failure counts hash, KEYS[3..] sessions' failed-frame sets
 * Returns the number of keys removed.
 */
export const clearFailureLists = new LuaScript(
  "clearFailureLists",
  `
return redis.call('DEL', unpack(KEYS))
`,
);
