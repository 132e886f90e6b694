import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { ClientErrorReport, JobArchive, RenderClientStore } from "../../src/domain/clients/ports.js";
import type { JobNeeds } from "../../src/domain/jobs/job.js";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

/** Jobs whose first frame dimensions are kept in memory (the map is emptied when full). */
const DIMS_KEPT = 10_000;

/**
 * The farm's figures for SheepIt's `<stats>`, in one script: frames left and jobs with frames a
 * SheepIt client can render now (runnable `blender` jobs with frames not completed or failed), and
 * live sessions (seen since ARGV[2], not disabled, offline or in error). Before, the same reads
 * went from the gateway as a pipeline of 2 commands per runnable job (20,001 at 10,000 jobs).
 * KEYS: runnable jobs, sessions seen. ARGV: the key root, seen since (ms).
 */
const farmStatsScript = new LuaScript(
  "farm-stats",
  `
local root = ARGV[1]
local frames, jobs = 0, 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = redis.call('HMGET', root .. ':job:' .. id, 'total', 'completed', 'failed')
  local left = (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0) - (tonumber(v[3]) or 0)
  if left > 0 and redis.call('HGET', root .. ':sched:' .. id, 'tasktype') == 'blender' then
    frames = frames + left
    jobs = jobs + 1
  end
end
local connected = 0
for _, sid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[2], '+inf')) do
  local st = redis.call('HGET', root .. ':session:' .. sid, 'status')
  if st and st ~= 'disabled' and st ~= 'offline' and st ~= 'error' then connected = connected + 1 end
end
return {frames, jobs, connected}
`,
);

/**
 * record-assignment: the job handed to a session, newest of its last 100, the set kept ARGV[3] ms
 * after the last. One script, not a MULTI of three (a third of the CPU of a request_job's write).
 * KEYS[1] the session's jobs. ARGV: now (ms), the job id, keep (ms).
 */
const recordAssignmentScript = new LuaScript(
  "record-assignment",
  `redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -101)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`,
);

/**
 * archive-jobs: the job behind each archive md5 with its status, in one call (was the md5 map,
 * then each job's record: two round trips one after the other on every `request_job` of a client
 * holding archives). KEYS[1] md5 -> job id. ARGV[1] the key root, ARGV[2..] md5s. Answers per md5
 * `""` (unknown) or `<job id>|<status>` (status empty when the job is gone).
 */
const archiveJobsScript = new LuaScript(
  "archive-jobs",
  `local out = {}
for i = 2, #ARGV do
  local jid = redis.call('HGET', KEYS[1], ARGV[i])
  if jid then
    out[i - 1] = jid .. '|' .. (redis.call('HGET', ARGV[1] .. ':job:' .. jid, 'status') or '')
  else
    out[i - 1] = ''
  end
end
return out`,
);

type ArchiveRecord = Omit<JobArchive, "file" | "password" | "chunks"> & { key: string };

/** What the farm keeps about render-client sessions, in Redis beside the scheduler's state. */
export class RedisRenderClientStore implements RenderClientStore {
  private secretValue: Buffer | undefined;
  /** Jobs' first frame dimensions, as stored in Redis (they never change once set). */
  private readonly dims = new Map<string, { width: number; height: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    /** How long per-session records outlive the session's last request. */
    private readonly keepMs: number,
  ) {}

  async secret(): Promise<Buffer> {
    if (!this.secretValue) {
      const key = this.keys.sheepitSecret();
      await this.redis.set(key, randomBytes(32).toString("base64"), "NX");
      const stored = await this.redis.get(key);
      if (!stored) throw new Error("the validation secret could not be stored");
      this.secretValue = Buffer.from(stored, "base64");
    }
    return this.secretValue;
  }

  async recordAssignment(sessionId: string, jobId: string): Promise<void> {
    await recordAssignmentScript.run(
      this.redis,
      [this.keys.sheepitSessionJobs(sessionId)],
      [Date.now(), jobId, this.keepMs],
    );
  }

  async lastAssignment(sessionId: string, jobId: string): Promise<number | null> {
    const v = await this.redis.zscore(this.keys.sheepitSessionJobs(sessionId), jobId);
    return v === null ? null : Number(v);
  }

  async recentJobs(sessionId: string, sinceMs: number, limit: number): Promise<string[]> {
    const key = this.keys.sheepitSessionJobs(sessionId);
    return this.redis.zrevrangebyscore(key, "+inf", Math.floor(sinceMs), "LIMIT", 0, limit);
  }

  async firstDimensions(jobId: string, dims: { width: number; height: number }) {
    // Set once (NX) and never changed: once read, the answer is kept in memory (a bounded map).
    const cached = this.dims.get(jobId);
    if (cached) return cached;
    const key = this.keys.sheepitJobDims(jobId);
    await this.redis.set(key, `${dims.width}x${dims.height}`, "NX");
    const stored = await this.redis.get(key);
    const [w, h] = (stored ?? "").split("x").map(Number);
    const known = { width: w ?? dims.width, height: h ?? dims.height };
    if (stored) {
      if (this.dims.size >= DIMS_KEPT) this.dims.clear();
      this.dims.set(jobId, known);
    }
    return known;
  }

  async countBroken(sessionId: string): Promise<number> {
    const key = this.keys.sheepitSessionCounters(sessionId);
    const [[, n] = []] = (await this.redis.multi().hincrby(key, "broken", 1).pexpire(key, this.keepMs).exec()) ?? [];
    return Number(n);
  }

  async resetBroken(sessionId: string, credits = 0): Promise<void> {
    const key = this.keys.sheepitSessionCounters(sessionId);
    if (credits <= 0) {
      await this.redis.hset(key, "broken", 0);
      return;
    }
    await this.redis.multi().hset(key, "broken", 0).hincrby(key, "credits", credits).pexpire(key, this.keepMs).exec();
  }

  async sessionCredits(sessionId: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.sheepitSessionCounters(sessionId), "credits")) ?? 0);
  }

  async recordError(sessionId: string, report: ClientErrorReport, keep: number): Promise<void> {
    const key = this.keys.sheepitErrors(sessionId);
    await this.redis
      .multi()
      .lpush(key, JSON.stringify(report))
      .ltrim(key, 0, keep - 1)
      .pexpire(key, this.keepMs)
      .exec();
  }

  async errors(sessionId: string): Promise<ClientErrorReport[]> {
    const rows = await this.redis.lrange(this.keys.sheepitErrors(sessionId), 0, -1);
    return rows.map((r) => JSON.parse(r) as ClientErrorReport);
  }

  async forgetSession(sessionId: string): Promise<void> {
    await this.redis.del(
      this.keys.sheepitSessionJobs(sessionId),
      this.keys.sheepitSessionCounters(sessionId),
      this.keys.sheepitErrors(sessionId),
    );
  }

  async jobArchive(jobId: string): Promise<ArchiveRecord | null> {
    const h = await this.redis.hgetall(this.keys.sheepitJobArchive(jobId));
    if (!h.key || !h.md5) return null;
    return { key: h.key, md5: h.md5, size: Number(h.size ?? 0), blendPath: h.blendPath ?? "" };
  }

  async setJobArchive(jobId: string, a: ArchiveRecord): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.sheepitJobArchive(jobId), {
        key: a.key,
        md5: a.md5,
        size: String(a.size),
        blendPath: a.blendPath,
      })
      .hset(this.keys.sheepitArchiveMd5s(), a.md5, jobId)
      .exec();
  }

  async archiveJobs(md5s: string[]): Promise<Array<{ jobId: string; status: string | null } | null>> {
    if (md5s.length === 0) return [];
    const raw = await archiveJobsScript.run<string[]>(
      this.redis,
      [this.keys.sheepitArchiveMd5s()],
      [this.keys.root, ...md5s],
    );
    return raw.map((v) => {
      if (!v) return null;
      const bar = v.indexOf("|");
      const status = v.slice(bar + 1);
      return { jobId: v.slice(0, bar), status: status === "" ? null : status };
    });
  }

  async frameState(jobId: string, index: number) {
    const st = await this.redis.hget(this.keys.frameStates(jobId), String(index));
    if (!st) return null;
    const [state = "", sessionId = "", leaseId = ""] = st.split("|");
    return { state, sessionId, leaseId };
  }

  async jobNeeds(jobId: string): Promise<JobNeeds> {
    const [device, ram, vram, time] = await this.redis.hmget(
      this.keys.schedJob(jobId),
      "device",
      "ram",
      "vram",
      "time",
    );
    return {
      device: device === "cpu" || device === "gpu" ? device : "any",
      ramKb: Number(ram ?? 0),
      vramBytes: Number(vram ?? 0),
      renderSeconds: Number(time ?? 0),
    };
  }

  async farmStats(seenSince: number) {
    const [framesRemaining, jobsWaiting, connected] = await farmStatsScript.run<[number, number, number]>(
      this.redis,
      [this.keys.runnable(), this.keys.sessionsSeen()],
      [this.keys.root, seenSince],
    );
    return { framesRemaining, jobsWaiting, connected };
  }
}
