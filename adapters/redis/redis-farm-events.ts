import type { Redis } from "ioredis";
import type { Logger } from "../../src/app/logger.js";
import type { FarmEvent, FarmEvents } from "../../src/domain/events.js";
import type { Keys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

/** Per-minute activity buckets are kept this long (the dashboard shows the last hour). */
const BUCKET_TTL_S = 2 * 60 * 60;

/**
 * Frames done and failed, counted in the minute's bucket (per job, and `*` for all jobs) and the
 * session's counters, with their expiries: one command (it was a MULTI of up to 9 commands).
 * KEYS: bucket, client counters. ARGV: job id, done, failed, bucket TTL s, client TTL s.
 */
const countFramesScript = new LuaScript(
  "count-frames",
  `
local job, done, failed = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if done > 0 then
  redis.call('HINCRBY', KEYS[1], job, done)
  redis.call('HINCRBY', KEYS[1], '*', done)
end
if failed > 0 then redis.call('HINCRBY', KEYS[1], 'failed:' .. job, failed) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
if done > 0 then redis.call('HINCRBY', KEYS[2], 'done', done) end
if failed > 0 then
  redis.call('HINCRBY', KEYS[2], 'failed', failed)
  redis.call('HINCRBY', KEYS[2], 'failed:' .. job, failed)
end
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 1
`,
);

export type FarmEventListener = (event: FarmEvent) => void;

/**
 * Farm events on Redis pub/sub: every gateway process publishes on one channel of the farm and
 * subscribes to it with ONE connection of its own (made on the first listener), which fans out to
 * all listeners of the process (each browser's event stream). Connections per process stay
 * constant whatever the number of browsers.
 */
export class RedisFarmEvents implements FarmEvents {
  private sub: Redis | null = null;
  private subscribing: Promise<void> | null = null;
  private readonly listeners = new Set<FarmEventListener>();
  /** Events published in this tick, sent together as one PUBLISH when the tick's microtasks run. */
  private pending: string[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly logger: Logger,
  ) {}

  /** The pub/sub channel of the farm. */
  get channel(): string {
    return `${this.keys.root}:events`;
  }

  /** Hash: job id (and `*` for all) → frames done in the minute; `failed:<job>` for failures. */
  bucketKey(minute: number): string {
    return `${this.keys.root}:dash:minute:${minute}`;
  }

  /** Hash: frames done and failed by the session (`done`, `failed`, `failed:<job>`). */
  clientKey(sessionId: string): string {
    return `${this.keys.root}:dash:client:${sessionId}`;
  }

  /**
   * Events published in the same tick (a claim tells of its job and its client) go out as one
   * PUBLISH of a JSON array, the same event twice only once: one command instead of one per event.
   * A single event is sent as the object itself.
   */
  publish(event: FarmEvent): void {
    const text = JSON.stringify(event);
    if (this.pending.includes(text)) return;
    this.pending.push(text);
    if (this.pending.length > 1) return;
    queueMicrotask(() => {
      const batch = this.pending;
      this.pending = [];
      const message = batch.length === 1 ? (batch[0] as string) : `[${batch.join(",")}]`;
      this.redis.publish(this.channel, message).catch((err) => {
        this.logger.debug({ err }, "farm event not published");
      });
    });
  }

  countFrames(jobId: string, sessionId: string, done: number, failed: number): void {
    if (done <= 0 && failed <= 0) return;
    const bucket = this.bucketKey(Math.floor(Date.now() / 60_000));
    countFramesScript
      .run(this.redis, [bucket, this.clientKey(sessionId)], [jobId, done, failed, BUCKET_TTL_S, 7 * 24 * 60 * 60])
      .catch((err) => this.logger.debug({ err }, "frame counts not kept"));
  }

  /** Frames done per minute over the last `minutes` minutes, oldest first (the current minute last). */
  async activity(
    minutes: number,
    now = Date.now(),
  ): Promise<Array<{ minute: number; counts: Record<string, string> }>> {
    const last = Math.floor(now / 60_000);
    const m = this.redis.multi();
    for (let i = minutes - 1; i >= 0; i--) m.hgetall(this.bucketKey(last - i));
    const res = (await m.exec()) ?? [];
    return res.map(([, v], k) => ({ minute: last - (minutes - 1) + k, counts: (v ?? {}) as Record<string, string> }));
  }

  /** The session's counters: frames done, failed, and failed per job. */
  async clientCounts(sessionIds: string[]): Promise<Array<Record<string, string>>> {
    if (sessionIds.length === 0) return [];
    const m = this.redis.multi();
    for (const id of sessionIds) m.hgetall(this.clientKey(id));
    const res = (await m.exec()) ?? [];
    return res.map(([, v]) => (v ?? {}) as Record<string, string>);
  }

  /** Adds a listener; the process's one subscriber connection is made on the first. Returns the remover. */
  async subscribe(listener: FarmEventListener): Promise<() => void> {
    this.listeners.add(listener);
    try {
      await this.ensureSubscribed();
    } catch (err) {
      this.listeners.delete(listener);
      throw err;
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Browsers listening in this process now. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  private ensureSubscribed(): Promise<void> {
    if (!this.subscribing) {
      const sub = this.redis.duplicate();
      this.sub = sub;
      sub.on("error", (err) => this.logger.warn({ err }, "farm events subscriber"));
      sub.on("message", (_channel: string, message: string) => {
        let parsed: FarmEvent | FarmEvent[];
        try {
          parsed = JSON.parse(message) as FarmEvent | FarmEvent[];
        } catch {
          return;
        }
        for (const event of Array.isArray(parsed) ? parsed : [parsed]) {
          for (const l of this.listeners) {
            try {
              l(event);
            } catch (err) {
              this.logger.warn({ err }, "farm event listener failed");
            }
          }
        }
      });
      this.subscribing = sub.subscribe(this.channel).then(
        () => undefined,
        (err) => {
          this.subscribing = null;
          this.sub = null;
          sub.disconnect();
          throw err;
        },
      );
    }
    return this.subscribing;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    const sub = this.sub;
    this.sub = null;
    this.subscribing = null;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}
