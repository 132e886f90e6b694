import type { OutputClaim } from "./job-validation.js";

/**
 * The port that keeps which unfinished job renders to which frame paths
 * (adapters/redis/redis-output-claims.ts). A claim held by a job that is completed, canceled,
 * failed or gone counts as free.
 */
export interface OutputClaims {
  /** Claims `c` for `jobId` atomically; null when done, else the id of the unfinished job holding a clashing claim. */
  claim(jobId: string, c: OutputClaim): Promise<string | null>;
  /** Gives up `jobId`'s claim of `c` (nothing when another job holds it). */
  release(jobId: string, c: OutputClaim): Promise<void>;
}
