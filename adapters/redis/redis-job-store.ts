import type { Redis } from "ioredis";
import { FrameList } from "../../src/domain/jobs/frame-range.js";
import type { Job, JobStatus } from "../../src/domain/jobs/job.js";
import type { JobListFilter, JobStore } from "../../src/domain/jobs/job-store.js";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";
import { present, readHashes } from "./read-hashes.js";

/** transitionJob: sets a job's status when it is one of the allowed ones; returns the previous status. */
const transitionJob = new LuaScript(
  "transitionJob",
  `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return false end
local allowed = ARGV[1]
if allowed ~= '' and not string.find(',' .. allowed .. ',', ',' .. cur .. ',', 1, true) then
  return {cur, 0}
end
if cur ~= ARGV[2] then
  redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updated', ARGV[3], 'reason', ARGV[4])
  return {cur, 1}
end
return {cur, 0}
`,
);

/** setJobPriority: changes an existing job's priority. */
const setJobPriority = new LuaScript(
  "setJobPriority",
  "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], 'priority', ARGV[1], 'updated', ARGV[2]) return 1",
);

export function jobToHash(job: Job, frames: FrameList): Record<string, string> {
  return {
    id: job.id,
    name: job.name,
    type: job.type,
    priority: String(job.priority),
    settings: JSON.stringify(job.settings),
    metadata: JSON.stringify(job.metadata),
    status: job.status,
    created: job.created,
    updated: job.updated,
    reason: job.reason,
    total: String(job.frameCount),
    completed: String(job.completedFrames),
    failed: String(job.failedFrames),
    chunk: String(job.chunkSize),
    tasktype: job.taskType,
    video: job.hasVideo ? "1" : "0",
    videostate: job.videoState,
    sheepit: String(job.sheepitId),
    needs: JSON.stringify(job.needs),
    runs: JSON.stringify(frames.runs),
  };
}

export function jobFromHash(h: Record<string, string>): Job | null {
  if (!h.id) return null;
  return jobFromParts(h, jobFixedPart(h));
}

/** What of a job never changes after it is created (job-records.ts's JOB_FIXED_FIELDS), parsed. */
export type JobFixedPart = Pick<
  Job,
  | "name"
  | "type"
  | "settings"
  | "metadata"
  | "created"
  | "frameCount"
  | "chunkSize"
  | "taskType"
  | "hasVideo"
  | "sheepitId"
  | "needs"
>;

export function jobFixedPart(h: Record<string, string | undefined>): JobFixedPart {
  return {
    name: h.name ?? "",
    type: h.type ?? "",
    settings: JSON.parse(h.settings ?? "{}"),
    metadata: JSON.parse(h.metadata ?? "{}"),
    created: h.created ?? "",
    frameCount: Number(h.total ?? 0),
    chunkSize: Number(h.chunk ?? 1),
    taskType: h.tasktype ?? "blender",
    hasVideo: h.video === "1",
    sheepitId: Number(h.sheepit ?? 0),
    needs: JSON.parse(h.needs ?? '{"device":"any","ramKb":0,"vramBytes":0,"renderSeconds":0}'),
  };
}

/** A job from its live fields (a hash's, `id` set) and its fixed part. */
export function jobFromParts(h: Record<string, string | undefined>, f: JobFixedPart): Job {
  return {
    id: h.id ?? "",
    name: f.name,
    type: f.type,
    priority: Number(h.priority ?? 50),
    settings: f.settings,
    metadata: f.metadata,
    status: (h.status ?? "queued") as JobStatus,
    created: f.created,
    updated: h.updated ?? "",
    reason: h.reason ?? "",
    frameCount: f.frameCount,
    completedFrames: Number(h.completed ?? 0),
    failedFrames: Number(h.failed ?? 0),
    chunkSize: f.chunkSize,
    taskType: f.taskType,
    hasVideo: f.hasVideo,
    videoState: (h.videostate ?? "") as Job["videoState"],
    sheepitId: f.sheepitId,
    needs: f.needs,
  };
}

export class RedisJobStore implements JobStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async create(job: Job, frames: FrameList): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.job(job.id), jobToHash(job, frames))
      .zadd(this.keys.jobsByCreation(), Date.parse(job.created), job.id)
      .hset(this.keys.sheepitIds(), String(job.sheepitId), job.id)
      .exec();
  }

  async get(id: string): Promise<Job | null> {
    return jobFromHash(await this.redis.hgetall(this.keys.job(id)));
  }

  async frames(id: string): Promise<FrameList | null> {
    const runs = await this.redis.hget(this.keys.job(id), "runs");
    return runs ? new FrameList(JSON.parse(runs)) : null;
  }

  async list(filter: JobListFilter = {}): Promise<Job[]> {
    const ids = await this.redis.zrevrange(this.keys.jobsByCreation(), 0, -1);
    const jobs = present(
      await readHashes(
        this.redis,
        ids.map((id) => this.keys.job(id)),
        jobFromHash,
      ),
    ).filter((job) => !filter.statuses || filter.statuses.includes(job.status));
    return filter.limit ? jobs.slice(0, filter.limit) : jobs;
  }

  async nextSheepitId(): Promise<number> {
    const key = this.keys.sheepitIdCounter();
    const [, [, id] = []] = (await this.redis.multi().setnx(key, "19").incr(key).exec()) ?? [];
    return Number(id);
  }

  async idForSheepitId(sheepitId: number): Promise<string | null> {
    return this.redis.hget(this.keys.sheepitIds(), String(sheepitId));
  }

  async transition(
    id: string,
    to: JobStatus,
    opts: { from?: readonly JobStatus[]; reason?: string } = {},
  ): Promise<{ previous: JobStatus; changed: boolean } | null> {
    const res = await transitionJob.run<[string, number] | null>(
      this.redis,
      [this.keys.job(id)],
      [(opts.from ?? []).join(","), to, new Date().toISOString(), opts.reason ?? ""],
    );
    if (!res) return null;
    return { previous: res[0] as JobStatus, changed: res[1] === 1 };
  }

  async setPriority(id: string, priority: number): Promise<boolean> {
    const res = await setJobPriority.run(this.redis, [this.keys.job(id)], [String(priority), new Date().toISOString()]);
    return res === 1;
  }

  async delete(id: string): Promise<boolean> {
    const sheepit = await this.redis.hget(this.keys.job(id), "sheepit");
    const [[, n] = []] =
      (await this.redis
        .multi()
        .del(this.keys.job(id))
        .del(this.keys.frameStates(id))
        .del(this.keys.frameAttempts(id))
        .zrem(this.keys.jobsByCreation(), id)
        .hdel(this.keys.sheepitIds(), sheepit ?? "")
        .exec()) ?? [];
    return n === 1;
  }
}
