/**
 * Small change events of the farm, for live views (the dashboard). They carry what changed, not the
 * new state: a view that hears one reads the state again through the API. Publishing never throws
 * and never waits: a lost event only delays a view until the next one.
 */
export type FarmEvent =
  /** The job changed: status, priority, progress, or the state of some of its frames. */
  | { type: "job"; jobId: string }
  /** The job was deleted. */
  | { type: "job-deleted"; jobId: string }
  /** A client of either protocol changed: signed on or off, status, what it holds. */
  | { type: "client"; sessionId: string };

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
