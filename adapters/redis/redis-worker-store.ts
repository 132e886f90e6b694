import type { Redis } from "ioredis";
import type { SleepSchedule } from "../../src/domain/workers/sleep-schedule.js";
import { isWorkerStatus, type StatusRequest, type WorkerStatus } from "../../src/domain/workers/worker.js";
import type { WorkerStore } from "../../src/domain/workers/worker-store.js";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

/**
 * noteTask: replaces the task's activity (a field of its lease hash) and appends to its log (a
 * string). Each appended chunk ends with a line break (one is added when it has none), so chunks
 * never run together. A log past its cap keeps its newest three quarters, cut at a line start, behind a
 * marker, so trimming happens once per quarter of the cap, not on every append.
 *
 * KEYS[1] lease hash, KEYS[2] log
 * ARGV[1] log text, ARGV[2] cap in bytes, ARGV[3] 1 when an activity is given, ARGV[4] activity
 */
const noteTask = new LuaScript(
  "noteTask",
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'activity', ARGV[4]) end
if ARGV[1] == '' then return 1 end
local text = ARGV[1]
if string.sub(text, -1) ~= '\\n' then text = text .. '\\n' end
local n = redis.call('APPEND', KEYS[2], text)
local cap = tonumber(ARGV[2])
if n > cap then
  local keep = math.floor(cap * 3 / 4)
  local tail = redis.call('GETRANGE', KEYS[2], n - keep, -1)
  local nl = string.find(tail, '\\n', 1, true)
  if nl and nl < #tail then tail = string.sub(tail, nl + 1) end
  redis.call('SET', KEYS[2], '[earlier lines of this log were dropped: it keeps about ' .. keep .. ' bytes]\\n' .. tail)
end
return 1
`,
);

/**
 * clearRequestIf: clears a worker's status request when it asks for ARGV[1] (or there is none).
 * KEYS[1] request hash. Returns 1 when no request is left.
 */
const clearRequestIf = new LuaScript(
  "clearRequestIf",
  `
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return 1 end
if st == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
`,
);

/** The WorkerStore port on Redis: one hash per worker secret and request, logs as strings. */
export class RedisWorkerStore implements WorkerStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly logCap: number,
  ) {}

  async saveSecret(workerId: string, hash: string): Promise<void> {
    await this.redis.hset(this.keys.workerSecret(workerId), { hash });
  }

  async secret(workerId: string): Promise<string | null> {
    return this.redis.hget(this.keys.workerSecret(workerId), "hash");
  }

  async setRequest(workerId: string, request: StatusRequest | null): Promise<void> {
    const key = this.keys.workerRequest(workerId);
    if (!request) await this.redis.del(key);
    else await this.redis.hset(key, { status: request.status, lazy: request.lazy ? "1" : "0" });
  }

  async request(workerId: string): Promise<StatusRequest | null> {
    const [status, lazy] = await this.redis.hmget(this.keys.workerRequest(workerId), "status", "lazy");
    return status && isWorkerStatus(status) ? { status, lazy: lazy === "1" } : null;
  }

  async clearRequestIf(workerId: string, status: WorkerStatus): Promise<boolean> {
    return (await clearRequestIf.run(this.redis, [this.keys.workerRequest(workerId)], [status])) === 1;
  }

  async noteTask(taskId: string, note: { log?: string; activity?: string }): Promise<void> {
    await noteTask.run(
      this.redis,
      [this.keys.lease(taskId), this.keys.leaseLog(taskId)],
      [note.log ?? "", Math.max(1024, this.logCap), note.activity === undefined ? 0 : 1, note.activity ?? ""],
    );
  }

  async taskActivity(taskId: string): Promise<string> {
    return (await this.redis.hget(this.keys.lease(taskId), "activity")) ?? "";
  }

  async taskLog(taskId: string): Promise<string> {
    return (await this.redis.get(this.keys.leaseLog(taskId))) ?? "";
  }

  async setSleepSchedule(workerId: string, schedule: SleepSchedule | null): Promise<void> {
    const key = this.keys.workerSleepSchedule(workerId);
    const pipe = this.redis.multi().del(key);
    if (schedule) {
      pipe.hset(key, {
        active: schedule.isActive ? "1" : "0",
        days: schedule.daysOfWeek,
        start: schedule.startTime,
        end: schedule.endTime,
      });
      pipe.sadd(this.keys.sleepScheduledWorkers(), workerId);
    } else {
      pipe.srem(this.keys.sleepScheduledWorkers(), workerId);
    }
    await pipe.exec();
  }

  async sleepSchedule(workerId: string): Promise<SleepSchedule | null> {
    const h = await this.redis.hgetall(this.keys.workerSleepSchedule(workerId));
    if (h.active === undefined) return null;
    return { isActive: h.active === "1", daysOfWeek: h.days ?? "", startTime: h.start ?? "", endTime: h.end ?? "" };
  }

  async sleepScheduledWorkers(): Promise<string[]> {
    return this.redis.smembers(this.keys.sleepScheduledWorkers());
  }

  async tryLock(name: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.keys.sweepLock(name), String(process.pid), "PX", ms, "NX")) === "OK";
  }
}
