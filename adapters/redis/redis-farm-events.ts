import type { Redis } from "ioredis";
import type { Logger } from "../../src/app/logger.js";
import type { FarmEvent, FarmEvents } from "../../src/domain/events.js";
import { RedisFrameCounts } from "./frame-counts.js";
import type { Keys } from "./keys.js";

/** Events are sent at most this long after they were published, together. */
const EVENT_FLUSH_MS = 10;

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
  /** Events published since the last send, sent together as one PUBLISH (each once). */
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  /** Frames done and failed, per minute and per session (the dashboard's throughput). */
  private readonly counts: RedisFrameCounts;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly logger: Logger,
  ) {
    this.counts = new RedisFrameCounts(redis, keys, logger);
  }

  /** The pub/sub channel of the farm. */
  get channel(): string {
    return `${this.keys.root}:events`;
  }

  /**
   * Events published within EVENT_FLUSH_MS of each other (a claim tells of its job and its
   * client; a busy farm of many frames a second) go out as one PUBLISH of a JSON array, the same
   * event twice only once: one command for many, where it was one per event (a third of a
   * claim+complete's commands). A single event is sent as the object itself.
   */
  publish(event: FarmEvent): void {
    this.pending.add(JSON.stringify(event));
    if (!this.timer) {
      this.timer = setTimeout(() => void this.sendEvents(), EVENT_FLUSH_MS);
      this.timer.unref();
    }
  }

  countFrames(jobId: string, sessionId: string, done: number, failed: number): void {
    this.counts.add(jobId, sessionId, done, failed);
  }

  /** Sends the pending events and writes the pending counts now. */
  async flush(): Promise<void> {
    await Promise.all([this.sendEvents(), this.counts.flush()]);
  }

  private async sendEvents(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending = new Set();
    const message = batch.length === 1 ? (batch[0] as string) : `[${batch.join(",")}]`;
    await this.redis.publish(this.channel, message).then(
      () => undefined,
      (err) => this.logger.debug({ err }, "farm event not published"),
    );
  }

  /** Frames done per minute over the last `minutes` minutes, oldest first (the current minute last). */
  activity(minutes: number, now = Date.now()): Promise<Array<{ minute: number; counts: Record<string, string> }>> {
    return this.counts.activity(minutes, now);
  }

  /** The session's counters: frames done, failed, and failed per job. */
  clientCounts(sessionIds: string[]): Promise<Array<Record<string, string>>> {
    return this.counts.clientCounts(sessionIds);
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
    await this.flush();
    this.listeners.clear();
    const sub = this.sub;
    this.sub = null;
    this.subscribing = null;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}
