import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../../src/app/logger.js";
import type { Keys } from "../redis/keys.js";

export interface JobQueuesOptions {
  /** Lock BullMQ gives a frame when it is claimed; the scheduler extends it to the lease wanted. */
  lockMs: number;
  maxStalled: number;
  stalledIntervalMs: number;
  onStalled: (jobId: string, bullId: string) => void;
  onFailed: (jobId: string, bullId: string, reason: string) => void;
}

/**
 * One BullMQ queue per farm job (its frames, then its video task), with a manual-mode Worker per
 * queue in this process, created on first use. The Worker never runs a processor: the scheduler
 * calls `getNextJob` for claims and BullMQ's stalled checker puts expired leases back in line.
 */
export class JobQueues {
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Map<string, Worker>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly opts: JobQueuesOptions,
    private readonly logger: Logger,
  ) {}

  queue(jobId: string): Queue {
    let q = this.queues.get(jobId);
    if (!q) {
      q = new Queue(this.keys.queueName(jobId), { connection: this.redis, prefix: this.keys.root });
      q.on("error", (err) => this.logger.warn({ err, jobId }, "bullmq queue error"));
      this.queues.set(jobId, q);
    }
    return q;
  }

  worker(jobId: string): Worker {
    let w = this.workers.get(jobId);
    if (!w) {
      w = new Worker(this.keys.queueName(jobId), null, {
        connection: this.redis,
        prefix: this.keys.root,
        autorun: false,
        lockDuration: this.opts.lockMs,
        maxStalledCount: this.opts.maxStalled,
        stalledInterval: this.opts.stalledIntervalMs,
      });
      w.on("error", (err) => this.logger.warn({ err, jobId }, "bullmq worker error"));
      w.on("stalled", (bullId) => this.opts.onStalled(jobId, bullId));
      w.on("failed", (job, err) => {
        if (job?.id) this.opts.onFailed(jobId, job.id, err.message);
      });
      this.workers.set(jobId, w);
      w.startStalledCheckTimer().catch((err) => this.logger.warn({ err, jobId }, "stalled checker did not start"));
    }
    return w;
  }

  /** The job ids this process holds queue objects for. */
  known(): string[] {
    return [...new Set([...this.queues.keys(), ...this.workers.keys()])];
  }

  /** Closes this process's queue and worker objects of a job (its Redis data stays). */
  async drop(jobId: string): Promise<void> {
    const w = this.workers.get(jobId);
    const q = this.queues.get(jobId);
    this.workers.delete(jobId);
    this.queues.delete(jobId);
    await Promise.allSettled([w?.close(true), q?.close()]);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.known().map((id) => this.drop(id)));
  }
}
