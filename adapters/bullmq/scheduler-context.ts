import type { Redis } from "ioredis";
import type { Logger } from "../../src/app/logger.js";
import { JobRecords } from "../redis/job-records.js";
import type { Keys } from "../redis/keys.js";
import type { BullmqSchedulerOptions, ProgressListener } from "./bullmq-scheduler-options.js";
import type { JobQueues } from "./job-queues.js";
import { markReady } from "./ready-index-scripts.js";
import { setRunnable } from "./scheduler-scripts.js";

/** What the parts of the BullMQ scheduler share: the connection, keys, settings, queues, listeners. */
export class SchedulerContext {
  private readonly listeners = new Set<ProgressListener>();
  closing = false;
  /** Jobs as the claim and completion scripts answer them (their live fields). */
  readonly jobRecords: JobRecords;

  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
    readonly opts: BullmqSchedulerOptions,
    readonly logger: Logger,
    readonly queues: JobQueues,
  ) {
    this.jobRecords = new JobRecords(redis, keys);
  }

  onProgress(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emitProgress(jobId: string): void {
    for (const l of this.listeners) l(jobId);
  }

  /** Puts a runnable job (back) in the claim's ready index after frames went (back) in line. */
  async markReady(jobId: string): Promise<void> {
    await markReady.run(this.redis, [this.keys.ready(), this.keys.runnable(), this.keys.served()], [jobId]);
  }

  async setRunnable(jobId: string, runnable: boolean): Promise<void> {
    await setRunnable.run(
      this.redis,
      [this.keys.runnable(), this.keys.served(), this.keys.job(jobId), this.keys.servedRank(), this.keys.ready()],
      [jobId, runnable ? 1 : 0],
    );
  }
}
