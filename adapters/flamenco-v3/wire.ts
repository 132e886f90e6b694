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

/** A SheepIt session id (32 hex digits) in the UUID form Flamenco 3's worker ids have; a worker's UUID as it is. */
export function sessionIdAsUuid(id: string): string {
  return /^[0-9a-f]{32}$/.test(id)
    ? `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`
    : id;
}
