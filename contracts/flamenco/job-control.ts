import { z } from "zod";
import { TaskStatus } from "./common.js";
import { Job, JobStatus } from "./jobs.js";

/** Operations later Flamenco Managers added (served under `/api/` without their `/v3`). */

export const JobStatusChange = z
  .object({ status: JobStatus, reason: z.string().default("") })
  .meta({ id: "JobStatusChange" });

export const JobPriorityChange = z
  .object({ priority: z.number().int().min(0).max(1_000_000) })
  .meta({ id: "JobPriorityChange" });

/** `GET /api/jobs?status=queued,active&limit=100` */
export const JobsQuery = z.object({
  status: z
    .string()
    .optional()
    .transform((s) =>
      s
        ? s
            .split(",")
            .map((x) => x.trim())
            .filter(Boolean)
        : undefined,
    )
    .pipe(z.array(JobStatus).optional()),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

export const JobsQueryResult = z.object({ jobs: z.array(Job) }).meta({ id: "JobsQueryResult" });

/** Who holds or held a task: a Flamenco worker or a SheepIt client. */
export const TaskWorker = z
  .object({ id: z.string(), name: z.string(), protocol: z.enum(["flamenco", "sheepit", "gateway"]) })
  .meta({ id: "TaskWorker" });

export const TaskSummary = z
  .object({
    id: z.uuid(),
    name: z.string(),
    status: TaskStatus,
    priority: z.number().int(),
    task_type: z.string(),
    updated: z.iso.datetime(),
    frames: z.array(z.number().int()),
    /** 1 for a first try; n when a frame of it had been handed out n - 1 times before. */
    attempt: z.number().int().min(1),
    worker: TaskWorker.optional(),
    /** Why the task waits or who runs it (the job's video task). */
    activity: z.string().optional(),
  })
  .meta({ id: "TaskSummary" });

export const JobTasksSummary = z
  .object({
    tasks: z.array(TaskSummary),
    frames: z.object({
      total: z.number().int(),
      completed: z.number().int(),
      failed: z.number().int(),
    }),
  })
  .meta({ id: "JobTasksSummary" });

export const Task = z
  .object({
    id: z.uuid(),
    job_id: z.uuid(),
    name: z.string(),
    status: TaskStatus,
    priority: z.number().int(),
    task_type: z.string(),
    created: z.iso.datetime(),
    updated: z.iso.datetime(),
    frames: z.array(z.number().int()),
    /** 1 for a first try; n when a frame of it had been handed out n - 1 times before. */
    attempt: z.number().int().min(1),
    worker: TaskWorker.optional(),
  })
  .meta({ id: "Task" });

export const TaskIdParam = z.object({ task_id: z.uuid({ message: "task_id must be a UUID" }) });

export const PageQuery = z.object({
  offset: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

export type Task = z.infer<typeof Task>;
