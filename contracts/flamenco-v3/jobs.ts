import { z } from "zod";
import { TaskStatus } from "../flamenco/common.js";
import { PageQuery, TaskIdParam } from "../flamenco/job-control.js";
import {
  AvailableJobSettingSubtype,
  AvailableJobSettingType,
  JobIdParam,
  JobMetadata,
  JobSettings,
} from "../flamenco/jobs.js";
import { Command } from "../flamenco/worker.js";

/**
 * Job submission and queries of Flamenco 3 (`/api/v3/jobs...`, `/api/v3/tasks...`). Settings,
 * metadata, setting types and path parameters are the 2022 declarations; what differs is here.
 */
export {
  AvailableJobSettingSubtype,
  AvailableJobSettingType,
  JobIdParam,
  JobMetadata,
  JobSettings,
  PageQuery,
  TaskIdParam,
};

/** Flamenco 3's `JobStatus` (`requeueing` where the 2022 API said `requeued`). */
export const JobStatusV3 = z.enum([
  "active",
  "canceled",
  "completed",
  "construction-failed",
  "failed",
  "paused",
  "queued",
  "archived",
  "archiving",
  "cancel-requested",
  "requeueing",
  "under-construction",
]);
export type JobStatusV3 = z.infer<typeof JobStatusV3>;

export const AvailableJobSettingVisibility = z.enum(["visible", "hidden", "submission", "web"]);

/** `AvailableJobSetting` (3.x): `visible` is an enum, `eval` a Python expression for the add-on. */
export const AvailableJobSettingV3 = z.object({
  key: z.string(),
  type: AvailableJobSettingType,
  subtype: AvailableJobSettingSubtype.optional(),
  choices: z.array(z.string()).optional(),
  propargs: z.record(z.string(), z.unknown()).optional(),
  description: z.string().optional(),
  default: z.unknown().optional(),
  eval: z.string().optional(),
  visible: AvailableJobSettingVisibility.optional(),
  required: z.boolean().optional(),
  editable: z.boolean().optional(),
});

/** `AvailableJobType` (3.x) with its `etag`. */
export const AvailableJobTypeV3 = z.object({
  name: z.string(),
  label: z.string(),
  settings: z.array(AvailableJobSettingV3),
  etag: z.string(),
});
export const AvailableJobTypesV3 = z.object({ job_types: z.array(AvailableJobTypeV3) });

/** `SubmittedJob` (3.x): `submitter_platform` required, `type_etag` checked when given. */
export const SubmittedJobV3 = z.object({
  name: z.string().min(1, "name must not be empty"),
  type: z.string().min(1, "type must not be empty"),
  type_etag: z.string().max(200).optional(),
  priority: z.number().int().min(0).max(1_000_000).default(50),
  settings: JobSettings.default({}),
  metadata: JobMetadata.default({}),
  submitter_platform: z.string().min(1, "submitter_platform must not be empty").max(100),
});
export type SubmittedJobV3 = z.infer<typeof SubmittedJobV3>;

/** `Job` (3.x): the submitted job with id, times, status and activity. */
export const JobV3 = z.object({
  id: z.uuid(),
  name: z.string(),
  type: z.string(),
  type_etag: z.string().optional(),
  priority: z.number().int(),
  settings: JobSettings,
  metadata: JobMetadata,
  submitter_platform: z.string(),
  created: z.iso.datetime(),
  updated: z.iso.datetime(),
  status: JobStatusV3,
  activity: z.string(),
});
export type JobV3 = z.infer<typeof JobV3>;

/** `JobsQuery`: the body of `POST /api/v3/jobs/query`. */
export const JobsQueryV3 = z.object({
  offset: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(10_000).optional(),
  order_by: z.array(z.string().max(100)).max(10).optional(),
  status_in: z.array(JobStatusV3).max(20).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
});
export type JobsQueryV3 = z.infer<typeof JobsQueryV3>;
export const JobsQueryResultV3 = z.object({ jobs: z.array(JobV3) });

/** `JobStatusChange` (3.x status names). */
export const JobStatusChangeV3 = z.object({ status: JobStatusV3, reason: z.string().max(10_000).default("") });

export const TaskWorkerV3 = z.object({ id: z.string(), name: z.string(), address: z.string() });

/** `Task` (3.x): with `activity`, `commands` and `last_touched`. */
export const TaskV3 = z.object({
  id: z.uuid(),
  created: z.iso.datetime(),
  updated: z.iso.datetime(),
  job_id: z.uuid(),
  name: z.string(),
  status: TaskStatus,
  priority: z.number().int(),
  task_type: z.string(),
  activity: z.string(),
  commands: z.array(Command),
  worker: TaskWorkerV3.optional(),
  last_touched: z.iso.datetime().optional(),
});
export type TaskV3 = z.infer<typeof TaskV3>;

export const TaskSummaryV3 = z.object({
  id: z.uuid(),
  name: z.string(),
  status: TaskStatus,
  priority: z.number().int(),
  task_type: z.string(),
  updated: z.iso.datetime(),
});
export const JobTasksSummaryV3 = z.object({ tasks: z.array(TaskSummaryV3) });

/** `TaskLogInfo`: where the whole log of a task is served. */
export const TaskLogInfo = z.object({ task_id: z.uuid(), job_id: z.uuid(), url: z.string(), size: z.number().int() });

/** `JobLastRenderedImageInfo`: the image is at `{base}/{suffix}`. */
export const JobLastRenderedImageInfo = z.object({ base: z.string(), suffixes: z.array(z.string()) });

/** `JobBlocklistEntry`: a client kept from a task type of the job (`worker_name` when known). */
export const JobBlocklistEntryV3 = z.object({
  worker_id: z.uuid({ message: "worker_id must be a UUID" }),
  task_type: z.string().max(100),
  worker_name: z.string().max(200).optional(),
});
/** `JobBlocklist`: a list of entries (the body of `DELETE jobs/{id}/blocklist` too). */
export const JobBlocklistV3 = z.array(JobBlocklistEntryV3).max(10_000);
export type JobBlocklistV3 = z.infer<typeof JobBlocklistV3>;

/** `TaskStatusChange`: `reason` required, as the spec says. */
export const TaskStatusChangeV3 = z.object({
  status: TaskStatus,
  reason: z.string({ message: "reason must be a string" }).max(10_000),
});

/** The path parameter of `GET /api/v3/jobs/type/{typeName}`. */
export const JobTypeNameParam = z.object({ typeName: z.string().min(1).max(200) });
