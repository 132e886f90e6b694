import { Hono } from "hono";
import { JobBlocklistV3, JobIdParam } from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { flamencoV3Services } from "../../src/app/flamenco-v3.js";
import { jsonBody, params } from "../flamenco/validate.js";
import { bodyCap } from "../flamenco/worker-auth.js";
import { sessionIdAsUuid } from "./wire.js";

/**
 * `GET /api/v3/jobs/{id}/blocklist` (`JobBlocklist`: every client the failure rules kept from the
 * job, workers and SheepIt sessions alike, with the job's task type) and `DELETE` of the same
 * (body: the entries to take off; none or empty: nothing is removed, 204).
 */
export function jobBlocklistRoutes(farm: Farm) {
  const app = new Hono();
  const blocklist = () => flamencoV3Services(farm).blocklist;

  app.get("/jobs/:job_id/blocklist", async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    const entries = await blocklist().list(job_id);
    return c.json(
      entries.map((e) => ({
        worker_id: sessionIdAsUuid(e.sessionId),
        task_type: e.taskType,
        ...(e.name ? { worker_name: e.name } : {}),
      })),
    );
  });

  app.delete("/jobs/:job_id/blocklist", bodyCap(1024 * 1024), async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    const entries = (await jsonBody(c, JobBlocklistV3.optional())) ?? [];
    // Either form of an id: the UUID of a worker, or a SheepIt session's 32 hex digits.
    const ids = [...new Set(entries.flatMap((e) => [e.worker_id, e.worker_id.replaceAll("-", "")]))];
    await blocklist().remove(job_id, ids);
    return c.body(null, 204);
  });

  return app;
}
