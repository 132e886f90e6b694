import { createScripts, Queue, type Scripts } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../../src/app/logger.js";
import type { Keys } from "../redis/keys.js";

export interface JobQueuesOptions {
  /** Lock BullMQ gives a frame when it is claimed; the scheduler extends it to the lease wanted. */
  lockMs: number;
  maxStalled: number;
  stalledIntervalMs: number;
  /** Queue objects kept in this process (least recently used ones are closed past this). */
  maxOpen?: number;
}

/**
 * BullMQ's `streams.events.maxLen` for the farm's queues: 0, the smallest it takes (its scripts
 * `XADD ... MAXLEN ~ 0` and `XTRIM ... MAXLEN ~ 0`, which Redis accepts; approximate trimming with
 * 1 or more keeps a whole 100-entry node, 4.8 kB). Written in each queue's meta hash when a Queue
 * object is made, so queues made before pick it up the next time.
 */
export const EVENTS_MAX_LEN = 0;

interface Entry {
  queue: Queue;
  /** BullMQ's scripts bound to the queue with a worker's lock and stalled settings. */
  scripts: Scripts;
}

/**
 * One BullMQ queue per farm job (its frames, then its video task), and no BullMQ Worker: a claim
 * takes frames as BullMQ's `moveToActive` does, inside the claim script (claim-script.ts), under
 * the lease id as the token, over the process's one shared connection; the scheduler's sweep
 * runs BullMQ's stalled check
 * (`moveStalledJobsToWait`) only on the queues that have frames out. A Worker per queue would cost
 * a blocking connection and a stalled-check timer per runnable job (docs/architecture.md).
 * Queue objects are cheap (no connection of their own) and kept in a bounded LRU.
 */
export class JobQueues {
  private readonly open = new Map<string, Entry>();
  private readonly maxOpen: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly opts: JobQueuesOptions,
    private readonly logger: Logger,
  ) {
    this.maxOpen = opts.maxOpen ?? 512;
  }

  private entry(jobId: string): Entry {
    let e = this.open.get(jobId);
    if (e) {
      this.open.delete(jobId);
      this.open.set(jobId, e);
      return e;
    }
    const queue = new Queue(this.keys.queueName(jobId), {
      connection: this.redis,
      prefix: this.keys.root,
      skipVersionCheck: true,
      // Nothing reads a queue's events stream (no QueueEvents): BullMQ trims it with `MAXLEN ~ 0`
      // at every event, so at most the few events of one script stay (a 4.8 kB node otherwise).
      streams: { events: { maxLen: EVENTS_MAX_LEN } },
    });
    queue.on("error", (err) => this.logger.warn({ err, jobId }, "bullmq queue error"));
    // The scripts see the queue with a worker's settings (lock duration, stalled limits).
    const view = Object.create(queue, {
      opts: {
        value: {
          ...queue.opts,
          lockDuration: this.opts.lockMs,
          maxStalledCount: this.opts.maxStalled,
          stalledInterval: this.opts.stalledIntervalMs,
        },
      },
    });
    e = { queue, scripts: createScripts(view) };
    this.open.set(jobId, e);
    while (this.open.size > this.maxOpen) {
      const [oldest, old] = this.open.entries().next().value as [string, Entry];
      this.open.delete(oldest);
      // A shared connection stays open; in-flight calls on the old object still complete.
      old.queue.close().catch(() => undefined);
    }
    return e;
  }

  queue(jobId: string): Queue {
    return this.entry(jobId).queue;
  }

  /** Extends the locks of frames held under their tokens; returns the ids whose lock was not extended. */
  extendLocks(jobId: string, ids: string[], tokens: string[], ms: number): Promise<string[]> {
    return this.entry(jobId).scripts.extendLocks(ids, tokens, ms);
  }

  /** BullMQ's stalled check on one job's queue: returns the frames it put back in line. */
  moveStalled(jobId: string): Promise<string[]> {
    return this.entry(jobId).scripts.moveStalledJobsToWait() as Promise<string[]>;
  }

  /** Puts a frame held under `token` back in line (BullMQ checks the token). */
  async backToWait(jobId: string, bullId: string, token: string): Promise<void> {
    await this.entry(jobId).scripts.moveJobFromActiveToWait(bullId, token);
  }

  /** How many queue objects this process holds now (bounded by `maxOpen`). */
  openCount(): number {
    return this.open.size;
  }

  /** Closes this process's queue object of a job (its Redis data stays). */
  async drop(jobId: string): Promise<void> {
    const e = this.open.get(jobId);
    this.open.delete(jobId);
    await e?.queue.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.open.keys()].map((id) => this.drop(id)));
  }
}
