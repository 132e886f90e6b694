import { Hono } from "hono";
import {
  AvailableJobTypes,
  JobIdParam,
  JobPriorityChange,
  JobStatusChange,
  JobsQuery,
  type Job as JobWire,
  PageQuery,
  SubmittedJob,
  TaskIdParam,
  type Task as TaskWire,
} from "../../contracts/flamenco/index.js";
import type { Farm } from "../../src/app/farm.js";
import {
  heldByGateway,
  jobOfWaitingVideoTask,
  jobVideoActivity,
  waitingVideoTaskId,
} from "../../src/app/video-view.js";
import { FarmError } from "../../src/domain/errors.js";
import type { Job } from "../../src/domain/jobs/job.js";
import { jobTypes } from "../../src/domain/jobs/job-types.js";
import type { Lease } from "../../src/domain/scheduling/capabilities.js";
import { currentTasks } from "../../src/domain/scheduling/job-task-list.js";
import { taskName, taskStatus } from "../../src/domain/scheduling/task-view.js";
import type { Session } from "../../src/domain/sessions/session.js";
import { jsonBody, params } from "./validate.js";

/** A domain job as the `Job` wire shape. */
export function jobToWire(job: Job): JobWire {
  return {
    id: job.id,
    name: job.name,
    type: job.type,
    priority: job.priority,
    settings: job.settings,
    metadata: job.metadata,
    created: job.created,
    updated: job.updated,
    status: job.status,
  };
}

/** Leases as `Task` wire shapes, with who holds or held each. */
async function tasksToWire(farm: Farm, leases: Lease[], job: Job): Promise<TaskWire[]> {
  const ids = [...new Set(leases.map((l) => l.sessionId))];
  const sessions = new Map<string, Pick<Session, "id" | "name" | "protocol">>(
    (await Promise.all(ids.map((id) => farm.sessions.get(id)))).flatMap((s) => (s ? [[s.id, s]] : [])),
  );
  // A task keeps its holder's name after the session ended.
  const gone = ids.filter((id) => !sessions.has(id));
  for (const f of await Promise.all(gone.map((id) => farm.sessions.formerHolder(id)))) if (f) sessions.set(f.id, f);
  return leases.map((l) => {
    const s = sessions.get(l.sessionId);
    return {
      id: l.id,
      job_id: l.jobId,
      name: taskName(l, job),
      status: taskStatus(l),
      priority: job.priority,
      task_type: l.taskType,
      created: l.created,
      updated: l.updated,
      frames: l.frames,
      attempt: l.attempt,
      ...(s ? { worker: { id: s.id, name: s.name, protocol: s.protocol } } : {}),
      ...(!s && heldByGateway(l)
        ? { worker: { id: l.sessionId, name: "gateway ffmpeg", protocol: "gateway" as const } }
        : {}),
    };
  });
}

/** The video task of a job before any client took it, as a `Task`, when `taskId` names one. */
async function waitingVideoTask(farm: Farm, taskId: string): Promise<TaskWire | null> {
  const job = await farm.jobStore.get(jobOfWaitingVideoTask(taskId));
  if (!job?.hasVideo) return null;
  const [newest] = await farm.scheduler.jobLeases(job.id, { limit: 1 });
  if (newest?.phase === "video") return null;
  return {
    id: taskId,
    job_id: job.id,
    name: taskName({ phase: "video", frames: [] }, job),
    status: "queued",
    priority: job.priority,
    task_type: "ffmpeg",
    created: job.created,
    updated: job.updated,
    frames: [],
    attempt: 1,
  };
}

/**
 * Job submission, queries and control: `/api/jobs/types`, `POST /api/jobs`, `GET /api/jobs`,
 * `GET /api/jobs/{job_id}`, `.../setstatus`, `.../setpriority`, `.../tasks`, `DELETE`, and
 * `GET /api/tasks/{task_id}`.
 */
export function jobRoutes(farm: Farm) {
  const app = new Hono();

  app.get("/jobs/types", (c) => c.json(AvailableJobTypes.parse({ job_types: jobTypes })));

  app.post("/jobs", async (c) => {
    const body = await jsonBody(c, SubmittedJob);
    const job = await farm.jobs.submit(body);
    c.set("jobId" as never, job.id as never);
    const activity = await jobVideoActivity(farm, job);
    return c.json({ ...jobToWire(job), ...(activity ? { activity } : {}) });
  });

  app.get("/jobs", async (c) => {
    const q = params(c.req.query(), JobsQuery);
    const jobs = await farm.jobs.list({
      ...(q.status ? { statuses: q.status } : {}),
      ...(q.limit ? { limit: q.limit } : {}),
    });
    return c.json({ jobs: jobs.map(jobToWire) });
  });

  app.get("/jobs/:job_id", async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    const job = await farm.jobs.get(job_id);
    const activity = await jobVideoActivity(farm, job);
    return c.json({ ...jobToWire(job), ...(activity ? { activity } : {}) });
  });

  app.delete("/jobs/:job_id", async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    await farm.jobs.delete(job_id);
    return c.body(null, 204);
  });

  app.post("/jobs/:job_id/setstatus", async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    const body = await jsonBody(c, JobStatusChange);
    await farm.jobs.setStatus(job_id, body.status, body.reason);
    return c.body(null, 204);
  });

  app.post("/jobs/:job_id/setpriority", async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    const body = await jsonBody(c, JobPriorityChange);
    await farm.jobs.setPriority(job_id, body.priority);
    return c.body(null, 204);
  });

  app.get("/jobs/:job_id/tasks", async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    const page = params(c.req.query(), PageQuery);
    const job = await farm.jobs.get(job_id);
    // Each piece of work once, with its true state (older leases of retried frames are history).
    const leases = currentTasks(await farm.jobs.tasks(job_id, page));
    const tasks = await tasksToWire(farm, leases, job);
    const video = leases.find((l) => l.phase === "video");
    const activity = await jobVideoActivity(farm, job, video);
    const summaries = tasks.map(({ id, name, status, priority, task_type, updated, frames, attempt, worker }) => ({
      id,
      name,
      status,
      priority,
      task_type,
      updated,
      frames,
      attempt,
      ...(worker ? { worker } : {}),
      ...(id === video?.id && activity ? { activity } : {}),
    }));
    // The video task is in the list before any client took it, with what it waits for.
    if (job.hasVideo && !video && (page.offset ?? 0) === 0) {
      summaries.unshift({
        id: waitingVideoTaskId(job.id),
        name: taskName({ phase: "video", frames: [] }, job),
        status: "queued",
        priority: job.priority,
        task_type: "ffmpeg",
        updated: job.updated,
        frames: [],
        attempt: 1,
        ...(activity ? { activity } : {}),
      });
    }
    return c.json({
      tasks: summaries,
      frames: { total: job.frameCount, completed: job.completedFrames, failed: job.failedFrames },
    });
  });

  app.get("/tasks/:task_id", async (c) => {
    const { task_id } = params(c.req.param(), TaskIdParam);
    const lease = await farm.work.lease(task_id);
    if (!lease) {
      const waiting = await waitingVideoTask(farm, task_id);
      if (waiting) return c.json(waiting);
      throw new FarmError("not-found", `no task ${task_id}`);
    }
    const job = await farm.jobs.get(lease.jobId);
    const [task] = await tasksToWire(farm, [lease], job);
    return c.json(task);
  });

  return app;
}
