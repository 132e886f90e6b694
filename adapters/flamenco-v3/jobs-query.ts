import { Hono } from "hono";
import {
  JobIdParam,
  JobStatusChangeV3,
  JobsQueryV3,
  type JobV3,
  PageQuery,
} from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { currentTasks } from "../../src/domain/scheduling/job-task-list.js";
import { jsonBody, params } from "../flamenco/validate.js";
import { bodyCap } from "../flamenco/worker-auth.js";
import { jobToWireV3 } from "./job-wire.js";
import { taskSummariesV3 } from "./task-wire.js";
import { jobStatusFromV3 } from "./wire.js";

/** Fields `order_by` may name (a leading `-` sorts descending). */
const ORDERABLE = new Set(["created", "updated", "status", "name", "priority", "type"]);

function compareBy(fields: readonly string[]) {
  return (a: JobV3, b: JobV3): number => {
    for (const f of fields) {
      const desc = f.startsWith("-");
      const key = (desc ? f.slice(1) : f) as keyof JobV3;
      const x = a[key] as string | number;
      const y = b[key] as string | number;
      if (x !== y) return (x < y ? -1 : 1) * (desc ? -1 : 1);
    }
    return 0;
  };
}

/**
 * The 3.x web UI's job queries: `POST /api/v3/jobs/query` (status filter, order, offset and limit),
 * `GET /api/v3/jobs/{id}`, `GET /api/v3/jobs/{id}/tasks`, `POST /api/v3/jobs/{id}/setstatus`.
 */
export function jobQueryRoutesV3(farm: Farm) {
  const app = new Hono();

  app.post("/jobs/query", bodyCap(64 * 1024), async (c) => {
    const q = await jsonBody(c, JobsQueryV3.default({}));
    for (const f of q.order_by ?? []) {
      if (!ORDERABLE.has(f.replace(/^-/, ""))) {
        return c.json({ code: 400, message: `order_by: cannot order by "${f}"` }, 400);
      }
    }
    const statuses = q.status_in?.map(jobStatusFromV3);
    const offset = q.offset ?? 0;
    // Newest first is the store's own order: without order_by only the page's jobs are read.
    const upTo = !q.order_by?.length && q.limit !== undefined ? { limit: offset + q.limit } : {};
    const jobs = await farm.jobs.list({ ...(statuses ? { statuses } : {}), ...upTo });
    const wire = await Promise.all(jobs.map((j) => jobToWireV3(farm, j)));
    if (q.order_by?.length) wire.sort(compareBy(q.order_by));
    return c.json({ jobs: wire.slice(offset, q.limit !== undefined ? offset + q.limit : undefined) });
  });

  app.get("/jobs/:job_id", async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    return c.json(await jobToWireV3(farm, await farm.jobs.get(job_id)));
  });

  app.get("/jobs/:job_id/tasks", async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    const page = params(c.req.query(), PageQuery);
    const job = await farm.jobs.get(job_id);
    const leases = currentTasks(await farm.jobs.tasks(job_id, page));
    return c.json({ tasks: taskSummariesV3(job, leases, (page.offset ?? 0) === 0) });
  });

  app.post("/jobs/:job_id/setstatus", bodyCap(64 * 1024), async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    const body = await jsonBody(c, JobStatusChangeV3);
    await farm.jobs.setStatus(job_id, jobStatusFromV3(body.status), body.reason);
    return c.body(null, 204);
  });

  return app;
}
