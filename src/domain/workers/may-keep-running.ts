import { isFarmError } from "../errors.js";
import { type JobStatus, runnableStatuses } from "../jobs/job.js";

/** Job statuses in which a worker may go on with a task it holds (a paused job's held work may finish). */
export function mayKeepRunning(status: JobStatus): boolean {
  return runnableStatuses.has(status) || status === "paused";
}

/** null for a job that no longer exists; any other error goes on. */
export function noJob(err: unknown): null {
  if (isFarmError(err, "not-found")) return null;
  throw err;
}
