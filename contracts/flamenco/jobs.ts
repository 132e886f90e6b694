import { z } from "zod";
import { jobStatuses } from "../../src/domain/jobs/job.js";

/** Flamenco's `JobStatus`: the farm's own job statuses are exactly these (src/domain/jobs/job.ts). */
export const JobStatus = z.enum(jobStatuses).meta({ id: "JobStatus" });

export const JobSettings = z.record(z.string(), z.unknown()).meta({ id: "JobSettings" });
export const JobMetadata = z.record(z.string(), z.string()).meta({ id: "JobMetadata" });

/** `SubmittedJob`: what a submitter posts to `POST /api/jobs`. */
export const SubmittedJob = z
  .object({
    name: z.string().min(1, "name must not be empty"),
    type: z.string().min(1, "type must not be empty"),
    priority: z.number().int().min(0).max(1_000_000).default(50),
    settings: JobSettings.default({}),
    metadata: JobMetadata.default({}),
  })
  .meta({ id: "SubmittedJob" });
export type SubmittedJob = z.infer<typeof SubmittedJob>;

/** `Job`: a submitted job with its id, times and status. */
export const Job = z
  .object({
    id: z.uuid(),
    name: z.string(),
    type: z.string(),
    priority: z.number().int(),
    settings: JobSettings,
    metadata: JobMetadata,
    created: z.iso.datetime(),
    updated: z.iso.datetime(),
    status: JobStatus,
    /** What the job waits for, when it does (e.g. who will make its video). */
    activity: z.string().optional(),
  })
  .meta({ id: "Job" });
export type Job = z.infer<typeof Job>;

export const AvailableJobSettingType = z
  .enum(["string", "int32", "float", "bool"])
  .meta({ id: "AvailableJobSettingType" });
export const AvailableJobSettingSubtype = z
  .enum(["file_path", "dir_path", "file_name", "hashed_file_path"])
  .meta({ id: "AvailableJobSettingSubtype" });

export const AvailableJobSetting = z
  .object({
    key: z.string(),
    type: AvailableJobSettingType,
    subtype: AvailableJobSettingSubtype.optional(),
    choices: z.array(z.string()).optional(),
    description: z.string().optional(),
    default: z.unknown().optional(),
    visible: z.boolean().optional(),
    required: z.boolean().optional(),
    editable: z.boolean().optional(),
  })
  .meta({ id: "AvailableJobSetting" });

export const AvailableJobType = z
  .object({ name: z.string(), label: z.string(), settings: z.array(AvailableJobSetting) })
  .meta({ id: "AvailableJobType" });

export const AvailableJobTypes = z.object({ job_types: z.array(AvailableJobType) }).meta({ id: "AvailableJobTypes" });

/** Path parameter `job_id`. */
export const JobIdParam = z.object({ job_id: z.uuid({ message: "job_id must be a UUID" }) });
