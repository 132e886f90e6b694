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
import { FarmError } from "../../src/domain/errors.js";
import type { Job } from "../../src/domain/jobs/job.js";
import { jobTypes } from "../../src/domain/jobs/job-types.js";
import type { Lease } from "../../src/domain/scheduling/capabilities.js";
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
async function tasksToWire(farm: Farm, leases: Lease[], priority: number): Promise<TaskWire[]> {
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
      name: taskName(l),
      status: taskStatus(l),
      priority,
      task_type: l.taskType,
      created: l.created,
      updated: l.updated,
      frames: l.frames,
      attempt: l.attempt,
      ...(s ? { worker: { id: s.id, name: s.name, protocol: s.protocol } } : {}),
    };
  });
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
    return c.json(jobToWire(job));
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
    return c.json(jobToWire(await farm.jobs.get(job_id)));
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
    const leases = await farm.jobs.tasks(job_id, page);
    const tasks = await tasksToWire(farm, leases, job.priority);
    return c.json({
      tasks: tasks.map(({ id, name, status, priority, task_type, updated, frames, attempt, worker }) => ({
        id,
        name,
        status,
        priority,
        task_type,
        updated,
        frames,
        attempt,
        ...(worker ? { worker } : {}),
      })),
      frames: { total: job.frameCount, completed: job.completedFrames, failed: job.failedFrames },
    });
  });

  app.get("/tasks/:task_id", async (c) => {
    const { task_id } = params(c.req.param(), TaskIdParam);
    const lease = await farm.work.lease(task_id);
    if (!lease) throw new FarmError("not-found", `no task ${task_id}`);
    const job = await farm.jobs.get(lease.jobId);
    const [task] = await tasksToWire(farm, [lease], job.priority);
    return c.json(task);
  });

  return app;
}
