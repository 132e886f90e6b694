/**
 * Small change events of the farm, for live views (the dashboard). They carry what changed, not the
 * new state: a view that hears one reads the state again through the API. Publishing never throws
 * and never waits: a lost event only delays a view until the next one.
 */
export type FarmEvent =
  /**
   * The job changed: status, priority, progress, or the state of some of its frames. `frames`,
   * when present, is every frame change the event stands for (so a view updates those cells
   * without reading all the job's frames again); absent, any frame may have changed.
   */
  | { type: "job"; jobId: string; frames?: FrameChange[] }
  /** The job was deleted. */
  | { type: "job-deleted"; jobId: string }
  /** A client of either protocol changed: signed on or off, status, what it holds. */
  | { type: "client"; sessionId: string };

/**
 * Frames (indices in the job's frame list) that went to one state: `a` held under a lease, `d`
 * done, `r` failed once and queued again, `f` failed for good (the letters of the frame-states API).
 */
export interface FrameChange {
  state: "a" | "d" | "r" | "f";
  indices: number[];
}

/** The port that carries farm events between gateway processes (adapters/redis/redis-farm-events.ts). */
export interface FarmEvents {
  publish(event: FarmEvent): void;
  /**
   * Counts frames that a session finished (`done`) or failed (`failed`) for a job, in per-minute
   * buckets of the farm (throughput, ETA) and per session (frames done, failures).
   */
  countFrames(jobId: string, sessionId: string, done: number, failed: number): void;
}

/** Events that go nowhere (a farm without live views, unit tests). */
export const noFarmEvents: FarmEvents = {
  publish() {},
  countFrames() {},
};
