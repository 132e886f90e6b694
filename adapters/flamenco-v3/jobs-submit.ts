import { Hono } from "hono";
import { AvailableJobTypesV3, JobTypeNameParam, SubmittedJobV3 } from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { jobTypeEtag, jobTypesV3, submitV3 } from "../../src/domain/jobs/job-types-v3.js";
import { errorJson } from "../flamenco/errors.js";
import { jsonBody, params } from "../flamenco/validate.js";
import { jobToWireV3 } from "./job-wire.js";

/**
 * `GET /api/v3/jobs/types` (3.x settings, each type with its etag), `GET /api/v3/jobs/type/{name}`
 * (one of them; 404 for an unknown name) and `POST /api/v3/jobs`
 * (a 3.x submission, translated and submitted through JobService; 412 on a stale `type_etag`).
 */
export function jobSubmitRoutesV3(farm: Farm) {
  const app = new Hono();
  const types = AvailableJobTypesV3.parse({ job_types: jobTypesV3.map((t) => ({ ...t, etag: jobTypeEtag(t) })) });

  app.get("/jobs/types", (c) => c.json(types));

  app.get("/jobs/type/:typeName", (c) => {
    const { typeName } = params(c.req.param(), JobTypeNameParam);
    const type = types.job_types.find((t) => t.name === typeName);
    return type ? c.json(type) : errorJson(c, 404, `no job type "${typeName}"`);
  });

  app.post("/jobs", async (c) => {
    const body = await jsonBody(c, SubmittedJobV3);
    const job = await submitV3(farm.jobs, {
      name: body.name,
      type: body.type,
      ...(body.type_etag !== undefined ? { typeEtag: body.type_etag } : {}),
      priority: body.priority,
      settings: body.settings,
      metadata: body.metadata,
      submitterPlatform: body.submitter_platform,
    });
    c.set("jobId" as never, job.id as never);
    const wire = await jobToWireV3(farm, job);
    return c.json(body.type_etag !== undefined ? { ...wire, type_etag: body.type_etag } : wire);
  });

  return app;
}
