import type { z } from "zod";
import { dashboardOperations } from "../dashboard/operations.js";
import { ErrorBody, FlamencoVersion, SecurityError } from "./common.js";
import { JobPriorityChange, JobStatusChange, JobsQueryResult, JobTasksSummary, Task } from "./job-control.js";
import { AvailableJobTypes, Job, SubmittedJob } from "./jobs.js";
import {
  AssignedTask,
  RegisteredWorker,
  TaskUpdate,
  WorkerList,
  WorkerRegistration,
  WorkerSignOn,
  WorkerStateChange,
  WorkerStateChanged,
  WorkerStatusChangeRequest,
} from "./worker.js";

export interface OperationResponse {
  description: string;
  /** JSON body; omitted for answers without a body (204). */
  schema?: z.ZodType;
  /** A non-JSON body, e.g. text/plain task logs. */
  contentType?: string;
}

export interface OperationParam {
  name: string;
  in: "path" | "query";
  required: boolean;
  description: string;
  format?: "uuid";
  type?: "string" | "integer";
}

/** One JSON operation the gateway serves under `/api`. The OpenAPI document is built from these. */
export interface Operation {
  method: "get" | "post" | "delete";
  /** OpenAPI path, e.g. `/api/jobs/{job_id}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: "meta" | "jobs" | "worker" | "worker-mgt" | "dashboard";
  /** True for worker calls (HTTP Basic, worker UUID + secret). */
  workerAuth?: boolean;
  params?: OperationParam[];
  request?: z.ZodType;
  responses: Record<string, OperationResponse>;
  /** False for operations the gateway adds beyond the 2022 spec (later Managers' operations). */
  inSpec: boolean;
}

const jobId: OperationParam = {
  name: "job_id",
  in: "path",
  required: true,
  description: "UUID of the job",
  format: "uuid",
};
const taskId: OperationParam = {
  name: "task_id",
  in: "path",
  required: true,
  description: "UUID of the task",
  format: "uuid",
};
const workerId: OperationParam = {
  name: "worker_id",
  in: "path",
  required: true,
  description: "UUID of the worker",
  format: "uuid",
};
const error = (description: string): OperationResponse => ({ description, schema: ErrorBody });
const noBody = (description: string): OperationResponse => ({ description });

/** Every JSON operation under `/api`, in the order of the reference page. */
export const operations: Operation[] = [
  {
    method: "get",
    path: "/api/version",
    operationId: "getVersion",
    summary: "Get the version of this Manager",
    tag: "meta",
    responses: { "200": { description: "normal response", schema: FlamencoVersion } },
    inSpec: true,
  },
  {
    method: "get",
    path: "/api/jobs/types",
    operationId: "getJobTypes",
    summary: "Get list of job types and their parameters",
    tag: "jobs",
    responses: { "200": { description: "Available job types", schema: AvailableJobTypes } },
    inSpec: true,
  },
  {
    method: "post",
    path: "/api/jobs",
    operationId: "submitJob",
    summary: "Submit a new job: validated against its type, compiled into frames and queued",
    tag: "jobs",
    request: SubmittedJob,
    responses: {
      "200": { description: "Job was successfully compiled into individual tasks", schema: Job },
      "400": error("The job or one of its settings is invalid; the message names it"),
    },
    inSpec: true,
  },
  {
    method: "get",
    path: "/api/jobs",
    operationId: "queryJobs",
    summary: "List jobs, newest first, optionally filtered by status",
    tag: "jobs",
    params: [
      { name: "status", in: "query", required: false, description: "comma-separated job statuses", type: "string" },
      { name: "limit", in: "query", required: false, description: "most jobs to return", type: "integer" },
    ],
    responses: { "200": { description: "Jobs", schema: JobsQueryResult }, "400": error("Bad filter") },
    inSpec: false,
  },
  {
    method: "get",
    path: "/api/jobs/{job_id}",
    operationId: "fetchJob",
    summary: "Fetch info about the job",
    tag: "jobs",
    params: [jobId],
    responses: {
      "200": { description: "Job info", schema: Job },
      "400": error("Malformed id"),
      "404": error("No such job"),
    },
    inSpec: true,
  },
  {
    method: "delete",
    path: "/api/jobs/{job_id}",
    operationId: "deleteJob",
    summary: "Delete the job: its frames leave the queues, its files stay",
    tag: "jobs",
    params: [jobId],
    responses: { "204": noBody("Deleted"), "404": error("No such job") },
    inSpec: false,
  },
  {
    method: "post",
    path: "/api/jobs/{job_id}/setstatus",
    operationId: "setJobStatus",
    summary: "Request a job status: cancel-requested, paused, queued (resume) or requeued",
    tag: "jobs",
    params: [jobId],
    request: JobStatusChange,
    responses: {
      "204": noBody("Status changed"),
      "400": error("Malformed request"),
      "404": error("No such job"),
      "422": error("The change is not valid from the job's current status"),
    },
    inSpec: false,
  },
  {
    method: "post",
    path: "/api/jobs/{job_id}/setpriority",
    operationId: "setJobPriority",
    summary: "Change the job's priority (higher first)",
    tag: "jobs",
    params: [jobId],
    request: JobPriorityChange,
    responses: { "204": noBody("Priority changed"), "400": error("Malformed request"), "404": error("No such job") },
    inSpec: false,
  },
  {
    method: "get",
    path: "/api/jobs/{job_id}/tasks",
    operationId: "fetchJobTasks",
    summary: "The job's tasks (frame chunks and its video task): state, holder, frames",
    tag: "jobs",
    params: [
      jobId,
      { name: "offset", in: "query", required: false, description: "tasks to skip", type: "integer" },
      { name: "limit", in: "query", required: false, description: "most tasks to return", type: "integer" },
    ],
    responses: { "200": { description: "Tasks, newest first", schema: JobTasksSummary }, "404": error("No such job") },
    inSpec: false,
  },
  {
    method: "get",
    path: "/api/tasks/{task_id}",
    operationId: "fetchTask",
    summary: "Fetch one task",
    tag: "jobs",
    params: [taskId],
    responses: { "200": { description: "The task", schema: Task }, "404": error("No such task") },
    inSpec: false,
  },
  {
    method: "get",
    path: "/api/tasks/{task_id}/log",
    operationId: "fetchTaskLogTail",
    summary: "The task's log as workers sent it (bounded; oldest lines dropped first)",
    tag: "jobs",
    params: [taskId],
    responses: {
      "200": { description: "The log", contentType: "text/plain" },
      "204": noBody("No log yet"),
      "404": error("No such task"),
    },
    inSpec: false,
  },
  {
    method: "post",
    path: "/api/worker/register-worker",
    operationId: "registerWorker",
    summary: "Register a new worker",
    tag: "worker",
    request: WorkerRegistration,
    responses: {
      "200": { description: "normal response", schema: RegisteredWorker },
      "400": error("Malformed registration"),
      "403": { description: "The address may not register (WORKER_ALLOWED_NETWORKS)", schema: SecurityError },
    },
    inSpec: true,
  },
  {
    method: "post",
    path: "/api/worker/sign-on",
    operationId: "signOn",
    summary: "Authenticate & sign in the worker",
    tag: "worker",
    workerAuth: true,
    request: WorkerSignOn,
    responses: { "200": { description: "normal response", schema: WorkerStateChange }, ...authErrors() },
    inSpec: true,
  },
  {
    method: "post",
    path: "/api/worker/sign-off",
    operationId: "signOff",
    summary: "Mark the worker as offline; its frames go back in line",
    tag: "worker",
    workerAuth: true,
    responses: { "204": noBody("normal response"), ...authErrors() },
    inSpec: true,
  },
  {
    method: "get",
    path: "/api/worker/state",
    operationId: "workerState",
    summary: "Whether a state change is requested for the worker",
    tag: "worker",
    workerAuth: true,
    responses: {
      "200": { description: "state change requested", schema: WorkerStateChange },
      "204": noBody("no state change requested"),
      ...authErrors(),
    },
    inSpec: true,
  },
  {
    method: "post",
    path: "/api/worker/state-changed",
    operationId: "workerStateChanged",
    summary: "Worker changed state",
    tag: "worker",
    workerAuth: true,
    request: WorkerStateChanged,
    responses: { "204": noBody("normal response"), ...authErrors() },
    inSpec: true,
  },
  {
    method: "post",
    path: "/api/worker/task",
    operationId: "scheduleTask",
    summary: "Obtain a new task to execute",
    tag: "worker",
    workerAuth: true,
    responses: {
      "200": { description: "Task to execute", schema: AssignedTask },
      "204": noBody("No tasks available for this Worker"),
      "409": error("Worker is not awake"),
      "423": { description: "Worker must go to another state", schema: WorkerStateChange },
      ...authErrors(),
    },
    inSpec: true,
  },
  {
    method: "post",
    path: "/api/worker/task/{task_id}",
    operationId: "taskUpdate",
    summary: "Update the task: progress, completion or failure",
    tag: "worker",
    workerAuth: true,
    params: [taskId],
    request: TaskUpdate,
    responses: {
      "204": noBody("The update was accepted"),
      "400": error("Malformed update"),
      "404": error("No such task"),
      "409": error("The task is not assigned to this worker (any more)"),
      ...authErrors(),
    },
    inSpec: true,
  },
  {
    method: "get",
    path: "/api/worker-mgt/workers",
    operationId: "fetchWorkers",
    summary: "List workers with status, last seen and current task",
    tag: "worker-mgt",
    responses: { "200": { description: "Workers", schema: WorkerList } },
    inSpec: false,
  },
  {
    method: "post",
    path: "/api/worker-mgt/workers/{worker_id}/setstatus",
    operationId: "requestWorkerStatusChange",
    summary: "Request a status for a worker (asleep, awake, offline), now or after its current task",
    tag: "worker-mgt",
    params: [workerId],
    request: WorkerStatusChangeRequest,
    responses: { "204": noBody("Requested"), "400": error("Malformed request"), "404": error("No such worker") },
    inSpec: false,
  },
  ...dashboardOperations,
];

function authErrors(): Record<string, OperationResponse> {
  return {
    "401": error("No credentials (HTTP Basic: worker UUID and secret)"),
    "403": { description: "Wrong credentials", schema: SecurityError },
  };
}
