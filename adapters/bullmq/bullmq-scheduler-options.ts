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
  /** Frames per bulk add when frames are requeued. */
  enqueueBatch?: number;
  /**
   * Frames of a job materialised as BullMQ jobs ahead of the claims (frame-window-script.ts): the
   * claim tops the window up when fewer than half of it are in line; the others are a cursor.
   */
  frameWindow?: number;
  /** Engaged jobs the sweep looks at per run (the rest wait for the next run, oldest first). */
  sweepJobs?: number;
}

/** Called when something changed a job's counters outside a client call (stalls, stall limit). */
export type ProgressListener = (jobId: string) => void;
