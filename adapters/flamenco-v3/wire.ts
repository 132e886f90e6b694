import type { WorkerStatusV3 } from "../../contracts/flamenco-v3/index.js";
import type { JobStatusV3 } from "../../contracts/flamenco-v3/jobs.js";
import type { JobStatus } from "../../src/domain/jobs/job.js";
import type { WorkerStatus } from "../../src/domain/workers/worker.js";

/** A domain worker status in Flamenco 3's words (3.x has no `shutdown`: the worker is gone). */
export function workerStatusV3(s: WorkerStatus): WorkerStatusV3 {
  return s === "shutdown" ? "offline" : s;
}

/** A domain job status in Flamenco 3's words. */
export function jobStatusV3(s: JobStatus): JobStatusV3 {
  switch (s) {
    case "requeued":
      return "requeueing";
    case "fail-requested":
      return "active";
    case "waiting-for-files":
      return "under-construction";
    default:
      return s;
  }
}

/** A Flamenco 3 job status as the domain says it. */
export function jobStatusFromV3(s: JobStatusV3): JobStatus {
  return s === "requeueing" ? "requeued" : s;
}
