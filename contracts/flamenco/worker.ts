import { z } from "zod";
import { TaskStatus } from "./common.js";

/**
 * The worker side of Flamenco's Manager API (`/api/worker/...`), mirroring the components of
 * flamenco-openapi.yaml, plus the worker management shapes of later Managers
 * (`/api/worker-mgt/...`) and the task log.
 */

export const WorkerStatus = z
  .enum(["starting", "awake", "asleep", "error", "shutdown", "testing", "offline"])
  .meta({ id: "WorkerStatus" });
export type WorkerStatus = z.infer<typeof WorkerStatus>;

const text = (field: string, max: number) => z.string().max(max, `${field} is longer than ${max} characters`);
const taskTypes = z.array(text("a task type", 100)).max(100, "supported_task_types has more than 100 entries");

/** `WorkerRegistration`: the body of `POST /api/worker/register-worker`. */
export const WorkerRegistration = z
  .object({
    secret: text("secret", 1000).min(1, "secret must not be empty"),
    platform: text("platform", 100),
    supported_task_types: taskTypes,
    nickname: text("nickname", 200),
  })
  .meta({ id: "WorkerRegistration" });
export type WorkerRegistration = z.infer<typeof WorkerRegistration>;

/**
 * `RegisteredWorker`: the answer to a registration. The spec lists `current_task` among the
 * required fields without declaring it; it is the UUID of the worker's task, or "" for none.
 */
export const RegisteredWorker = z
  .object({
    uuid: z.uuid(),
    nickname: z.string(),
    address: z.string(),
    status: WorkerStatus,
    platform: z.string(),
    current_task: z.string(),
    last_activity: z.string(),
    software: z.string(),
    supported_task_types: z.array(z.string()),
  })
  .meta({ id: "RegisteredWorker" });
export type RegisteredWorker = z.infer<typeof RegisteredWorker>;

/** `WorkerSignOn`: the body of `POST /api/worker/sign-on`. */
export const WorkerSignOn = z
  .object({
    nickname: text("nickname", 200),
    supported_task_types: taskTypes,
    software_version: text("software_version", 200),
  })
  .meta({ id: "WorkerSignOn" });
export type WorkerSignOn = z.infer<typeof WorkerSignOn>;

/** `WorkerStateChange`: a status the Manager asks the worker to go to. */
export const WorkerStateChange = z.object({ status_requested: WorkerStatus }).meta({ id: "WorkerStateChange" });
export type WorkerStateChange = z.infer<typeof WorkerStateChange>;

/** `WorkerStateChanged`: the body of `POST /api/worker/state-changed`. */
export const WorkerStateChanged = z.object({ status: WorkerStatus }).meta({ id: "WorkerStateChanged" });
export type WorkerStateChanged = z.infer<typeof WorkerStateChanged>;

/** `Command`: one command of a task, e.g. `blender-render` with its parameters. */
export const Command = z
  .object({ name: z.string(), parameters: z.record(z.string(), z.unknown()) })
  .meta({ id: "Command" });
export type Command = z.infer<typeof Command>;

/** `AssignedTask`: a task as the worker receives it from `POST /api/worker/task`. */
export const AssignedTask = z
  .object({
    uuid: z.uuid(),
    job: z.string(),
    name: z.string(),
    status: TaskStatus,
    priority: z.number().int(),
    job_priority: z.number().int(),
    job_type: z.string(),
    task_type: z.string(),
    commands: z.array(Command),
  })
  .meta({ id: "AssignedTask" });
export type AssignedTask = z.infer<typeof AssignedTask>;

/** `TaskUpdate`: the body of `POST /api/worker/task/{task_id}`; every field is optional. */
export const TaskUpdate = z
  .object({
    taskStatus: TaskStatus.optional(),
    activity: text("activity", 10_000).optional(),
    log: z.string().optional(),
  })
  .meta({ id: "TaskUpdate" });
export type TaskUpdate = z.infer<typeof TaskUpdate>;

/** Path parameter `worker_id`. */
export const WorkerIdParam = z.object({ worker_id: z.uuid({ message: "worker_id must be a UUID" }) });

/** Statuses an operator may ask a worker to go to. */
export const RequestableWorkerStatus = z.enum(["asleep", "awake", "offline"], {
  message: 'status must be one of "asleep", "awake", "offline"',
});

/**
 * `WorkerStatusChangeRequest` (later Managers): the body of
 * `POST /api/worker-mgt/workers/{worker_id}/setstatus`. `is_lazy`: after the current task.
 */
export const WorkerStatusChangeRequest = z
  .object({ status: RequestableWorkerStatus, is_lazy: z.boolean().default(false) })
  .meta({ id: "WorkerStatusChangeRequest" });
export type WorkerStatusChangeRequest = z.infer<typeof WorkerStatusChangeRequest>;

/** A worker's task as the worker list shows it. */
export const WorkerTask = z.object({ id: z.uuid(), name: z.string(), job: z.string() }).meta({ id: "WorkerTask" });

/** `WorkerSummary` (later Managers), with the platform, address and current task added. */
export const WorkerSummary = z
  .object({
    id: z.uuid(),
    name: z.string(),
    status: WorkerStatus,
    status_change: z.object({ status: WorkerStatus, is_lazy: z.boolean() }).optional(),
    last_seen: z.string(),
    version: z.string(),
    platform: z.string(),
    address: z.string(),
    supported_task_types: z.array(z.string()),
    current_task: WorkerTask.optional(),
  })
  .meta({ id: "WorkerSummary" });
export type WorkerSummary = z.infer<typeof WorkerSummary>;

/** `WorkerList`: the answer of `GET /api/worker-mgt/workers`. */
export const WorkerList = z.object({ workers: z.array(WorkerSummary) }).meta({ id: "WorkerList" });
export type WorkerList = z.infer<typeof WorkerList>;
