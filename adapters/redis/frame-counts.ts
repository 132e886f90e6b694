import type { Redis } from "ioredis";
import type { Logger } from "../../src/app/logger.js";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

/** Per-minute activity buckets are kept this long (the dashboard shows the last hour). */
const BUCKET_TTL_S = 2 * 60 * 60;
/** A session's counters are kept this long after its last frame. */
const CLIENT_TTL_S = 7 * 24 * 60 * 60;

/**
 * Adds counted frames to the minute buckets (per job, and `*` for all jobs) and the sessions'
 * counters, with their expiries: one command for everything a process counted since the last.
 * KEYS: the buckets and client counter hashes named by the entries. ARGV[1] bucket TTL s, ARGV[2]
 * client TTL s, then per entry five values: bucket key index, client key index, job id, done, failed.
 */
const countFramesScript = new LuaScript(
  "count-frames",
  `
for k = 3, #ARGV, 5 do
  local bucket, client = KEYS[tonumber(ARGV[k])], KEYS[tonumber(ARGV[k + 1])]
  local job, done, failed = ARGV[k + 2], tonumber(ARGV[k + 3]), tonumber(ARGV[k + 4])
  if done > 0 then
    redis.call('HINCRBY', bucket, job, done)
    redis.call('HINCRBY', bucket, '*', done)
    redis.call('HINCRBY', client, 'done', done)
  end
  if failed > 0 then
    redis.call('HINCRBY', bucket, 'failed:' .. job, failed)
    redis.call('HINCRBY', client, 'failed', failed)
    redis.call('HINCRBY', client, 'failed:' .. job, failed)
  end
  redis.call('EXPIRE', bucket, ARGV[1])
  redis.call('EXPIRE', client, ARGV[2])
end
return 1
`,
);

interface Entry {
  bucket: string;
  client: string;
  jobId: string;
  done: number;
  failed: number;
}

/**
 * Frames done and failed, per minute (throughput, ETA) and per session, counted in the process and
 * written together at most every `flushMs`: a frame costs no command of its own (it cost one
 * script call, a tenth of a farm.work claim+complete). Reads in this process write what is pending
 * first; other processes see a count at most `flushMs` late. A process that dies loses at most
 * that much of a throughput figure, nothing of the farm's books.
 */
export class RedisFrameCounts {
  private pending = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly logger: Logger,
    private readonly flushMs = 20,
  ) {}

  /** Hash: job id (and `*` for all) → frames done in the minute; `failed:<job>` for failures. */
  bucketKey(minute: number): string {
    return `${this.keys.root}:dash:minute:${minute}`;
  }

  /** Hash: frames done and failed by the session (`done`, `failed`, `failed:<job>`). */
  clientKey(sessionId: string): string {
    return `${this.keys.root}:dash:client:${sessionId}`;
  }

  add(jobId: string, sessionId: string, done: number, failed: number): void {
    if (done <= 0 && failed <= 0) return;
    const bucket = this.bucketKey(Math.floor(Date.now() / 60_000));
    const client = this.clientKey(sessionId);
    const id = `${bucket}\n${client}\n${jobId}`;
    const entry = this.pending.get(id);
    const e = entry ?? { bucket, client, jobId, done: 0, failed: 0 };
    e.done += Math.max(0, done);
    e.failed += Math.max(0, failed);
    if (!entry) this.pending.set(id, e);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes what was counted and not written yet; resolves once it is written (or failed, logged). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const entries = [...this.pending.values()];
    this.pending = new Map();
    if (entries.length === 0) return this.writing;
    const keys: string[] = [];
    const index = (key: string) => {
      const k = keys.indexOf(key);
      return k >= 0 ? k + 1 : keys.push(key);
    };
    const args: Array<string | number> = [BUCKET_TTL_S, CLIENT_TTL_S];
    for (const e of entries) args.push(index(e.bucket), index(e.client), e.jobId, e.done, e.failed);
    const write = countFramesScript
      .run(this.redis, keys, args)
      .then(() => undefined)
      .catch((err) => this.logger.debug({ err }, "frame counts not kept"));
    this.writing = Promise.all([this.writing, write]).then(() => undefined);
    return this.writing;
  }

  /** Frames done per minute over the last `minutes` minutes, oldest first (the current minute last). */
  async activity(
    minutes: number,
    now = Date.now(),
  ): Promise<Array<{ minute: number; counts: Record<string, string> }>> {
    await this.flush();
    const last = Math.floor(now / 60_000);
    const m = this.redis.multi();
    for (let i = minutes - 1; i >= 0; i--) m.hgetall(this.bucketKey(last - i));
    const res = (await m.exec()) ?? [];
    return res.map(([, v], k) => ({ minute: last - (minutes - 1) + k, counts: (v ?? {}) as Record<string, string> }));
  }

  /** The sessions' counters: frames done, failed, and failed per job. */
  async clientCounts(sessionIds: string[]): Promise<Array<Record<string, string>>> {
    if (sessionIds.length === 0) return [];
    await this.flush();
    const m = this.redis.multi();
    for (const id of sessionIds) m.hgetall(this.clientKey(id));
    const res = (await m.exec()) ?? [];
    return res.map(([, v]) => (v ?? {}) as Record<string, string>);
  }
}
