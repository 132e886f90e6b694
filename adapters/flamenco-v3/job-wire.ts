import type { JobV3 } from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { jobVideoActivity } from "../../src/app/video-view.js";
import type { Job } from "../../src/domain/jobs/job.js";
import { SUBMITTER_PLATFORM_KEY } from "../../src/domain/jobs/job-types-v3.js";
import { jobStatusV3 } from "./wire.js";

/** A domain job as Flamenco 3's `Job` (its submitter's platform kept in the metadata; "manager" for 2022 jobs). */
export async function jobToWireV3(farm: Farm, job: Job): Promise<JobV3> {
  const { [SUBMITTER_PLATFORM_KEY]: platform, ...metadata } = job.metadata;
  return {
    id: job.id,
    name: job.name,
    type: job.type,
    priority: job.priority,
    settings: job.settings,
    metadata,
    submitter_platform: platform ?? "manager",
    created: job.created,
    updated: job.updated,
    status: jobStatusV3(job.status),
    activity: (await jobVideoActivity(farm, job)) || job.reason || "",
  };
}
