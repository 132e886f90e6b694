import type { Redis } from "ioredis";
import type { Logger } from "../../src/app/logger.js";
import type { Keys } from "../redis/keys.js";
import type { BullmqSchedulerOptions, ProgressListener } from "./bullmq-scheduler-options.js";
import { markReady } from "./claim-script.js";
import type { JobQueues } from "./job-queues.js";
import { setRunnable } from "./scheduler-scripts.js";

/** What the parts of the BullMQ scheduler share: the connection, keys, settings, queues, listeners. */
export class SchedulerContext {
  private readonly listeners = new Set<ProgressListener>();
  closing = false;

  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
    readonly opts: BullmqSchedulerOptions,
    readonly logger: Logger,
    readonly queues: JobQueues,
  ) {}

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
