import { Hono } from "hono";
import { AvailableJobTypes, JobIdParam, type Job as JobWire, SubmittedJob } from "../../contracts/flamenco/index.js";
import type { Job } from "../../src/domain/jobs/job.js";
import { jobTypes } from "../../src/domain/jobs/job-types.js";
import type { Farm } from "../../src/app/farm.js";
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

/** Job submission and queries: `/api/jobs/types`, `POST /api/jobs`, `GET /api/jobs/{job_id}`. */
export function jobRoutes(farm: Farm) {
  const app = new Hono();

  app.get("/jobs/types", (c) => c.json(AvailableJobTypes.parse({ job_types: jobTypes })));

  app.post("/jobs", async (c) => {
    const body = await jsonBody(c, SubmittedJob);
    const job = await farm.jobs.submit(body);
    c.set("jobId" as never, job.id as never);
    return c.json(jobToWire(job));
  });

  app.get("/jobs/:job_id", async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    return c.json(jobToWire(await farm.jobs.get(job_id)));
  });

  return app;
}
