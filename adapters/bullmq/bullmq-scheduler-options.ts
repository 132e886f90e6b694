export interface BullmqSchedulerOptions {
  /** Lock a frame gets at claim time before the lease is applied. */
  defaultLeaseMs: number;
  maxStalled: number;
  stalledIntervalMs: number;
  /** Different clients that must fail a frame before it fails for good (BullMQ attempts). */
  taskFailWorkers: number;
  /** Failures of one session within one job that blocklist it from the job. */
  blocklistThreshold: number;
  /** Jobs a claim tries to take frames from (when the first has none this session may do). */
  candidates?: number;
  /** Jobs a claim looks at, at most, in the ready index (so its cost does not grow with the jobs). */
  scanLimit?: number;
  /** Frames per bulk add when a job is enqueued. */
  enqueueBatch?: number;
  /**
   * Frames put in line before `enqueueJob` returns; a bigger job's other frames follow in the
   * background (resumed by `sweep` in any process if this one stops first).
   */
  enqueueFirst?: number;
  /** Engaged jobs the sweep looks at per run (the rest wait for the next run, oldest first). */
  sweepJobs?: number;
}

/** Called when something changed a job's counters outside a client call (stalls, stall limit). */
export type ProgressListener = (jobId: string) => void;
