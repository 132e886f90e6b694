import { z } from "zod";
import { TaskIdParam } from "../flamenco/job-control.js";
import { AssignedTask, Command, TaskUpdate, WorkerIdParam } from "../flamenco/worker.js";

/**
 * The worker side of Flamenco 3's Manager API (`/api/v3/worker/...`, flamenco-openapi-v3.yaml).
 * Shapes that did not change are the 2022 ones (`AssignedTask`, `Command`, `TaskUpdate`); what
 * differs is declared here: `name` for `nickname`, the status list, `MayKeepRunning`.
 */
export { AssignedTask, Command, TaskIdParam, TaskUpdate, WorkerIdParam };

/** Flamenco 3's `WorkerStatus` (no `shutdown`). */
export const WorkerStatusV3 = z.enum(["starting", "awake", "asleep", "error", "testing", "offline"]);
export type WorkerStatusV3 = z.infer<typeof WorkerStatusV3>;

const text = (field: string, max: number) => z.string().max(max, `${field} is longer than ${max} characters`);
const taskTypes = z.array(text("a task type", 100)).max(100, "supported_task_types has more than 100 entries");

/** `WorkerRegistration` (3.x): `name` instead of `nickname`. */
export const WorkerRegistrationV3 = z.object({
  secret: text("secret", 1000).min(1, "secret must not be empty"),
  platform: text("platform", 100),
  supported_task_types: taskTypes,
  name: text("name", 200),
});

/** `RegisteredWorker` (3.x); `current_task` is listed as required without a declaration: "" for none. */
export const RegisteredWorkerV3 = z.object({
  uuid: z.uuid(),
  name: z.string(),
  address: z.string(),
  status: WorkerStatusV3,
  platform: z.string(),
  current_task: z.string(),
  software: z.string(),
  supported_task_types: z.array(z.string()),
});
export type RegisteredWorkerV3 = z.infer<typeof RegisteredWorkerV3>;

/** `WorkerSignOn` (3.x). */
export const WorkerSignOnV3 = z.object({
  name: text("name", 200),
  supported_task_types: taskTypes,
  software_version: text("software_version", 200),
});

export const WorkerStateChangeV3 = z.object({ status_requested: WorkerStatusV3 });
export const WorkerStateChangedV3 = z.object({ status: WorkerStatusV3 });

/** `MayKeepRunning`: the answer of `may-i-run`; `statusChangeRequested` implies `mayKeepRunning: false`. */
export const MayKeepRunning = z.object({
  mayKeepRunning: z.boolean(),
  reason: z.string(),
  statusChangeRequested: z.boolean(),
});
export type MayKeepRunning = z.infer<typeof MayKeepRunning>;

/** Content types `output-produced` accepts. */
export const OutputImageType = z.enum(["image/png", "image/jpeg"]);

/** `WorkerStatusChangeRequest` (3.x shape; operators may ask asleep, awake, offline). */
export const WorkerStatusChangeRequestV3 = z.object({
  status: z.enum(["asleep", "awake", "offline"]),
  is_lazy: z.boolean().default(false),
});

/** `WorkerSummary` (3.x) and `WorkerList`. */
export const WorkerSummaryV3 = z.object({
  id: z.uuid(),
  name: z.string(),
  status: WorkerStatusV3,
  status_change: z.object({ status: WorkerStatusV3, is_lazy: z.boolean() }).optional(),
  last_seen: z.iso.datetime().optional(),
  version: z.string(),
});
export type WorkerSummaryV3 = z.infer<typeof WorkerSummaryV3>;
export const WorkerListV3 = z.object({ workers: z.array(WorkerSummaryV3) });

/** `WorkerTask` (3.x): the worker's current task, a `TaskSummary` with its job. */
export const WorkerTaskV3 = z.object({
  id: z.uuid(),
  name: z.string(),
  status: z.string(),
  priority: z.number().int(),
  task_type: z.string(),
  updated: z.iso.datetime(),
  job_id: z.uuid(),
});

/** `Worker` (3.x): the summary with address, platform, task types and current task. */
export const WorkerV3 = WorkerSummaryV3.extend({
  ip_address: z.string(),
  platform: z.string(),
  supported_task_types: z.array(z.string()),
  task: WorkerTaskV3.optional(),
});
export type WorkerV3 = z.infer<typeof WorkerV3>;

const timeOfDay = (field: string) => z.string().max(10, `${field} must be HH:MM`);

/** `WorkerSleepSchedule`: times as `HH:MM` (checked by the domain), days as `mo tu ...`. */
export const WorkerSleepScheduleV3 = z.object({
  is_active: z.boolean({ message: "is_active must be true or false" }),
  days_of_week: z.string({ message: "days_of_week must be a string" }).max(100),
  start_time: timeOfDay("start_time"),
  end_time: timeOfDay("end_time"),
});
export type WorkerSleepScheduleV3 = z.infer<typeof WorkerSleepScheduleV3>;
