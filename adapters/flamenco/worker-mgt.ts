import { Hono } from "hono";
import {
  WorkerIdParam,
  WorkerStatusChangeRequest,
  type WorkerSummary as WorkerSummaryWire,
} from "../../contracts/flamenco/index.js";
import type { Farm } from "../../src/app/farm.js";
import type { WorkerSummary } from "../../src/domain/workers/worker.js";
import { jsonBody, params } from "./validate.js";
import { bodyCap } from "./worker-auth.js";

export function workerSummaryToWire(w: WorkerSummary): WorkerSummaryWire {
  return {
    id: w.id,
    name: w.nickname,
    status: w.status,
    ...(w.request ? { status_change: { status: w.request.status, is_lazy: w.request.lazy } } : {}),
    last_seen: new Date(w.lastSeen).toISOString(),
    version: w.software,
    platform: w.platform,
    address: w.address,
    supported_task_types: [...w.taskTypes],
    ...(w.currentTask
      ? { current_task: { id: w.currentTask.id, name: w.currentTask.name, job: w.currentTask.jobId } }
      : {}),
  };
}

/**
 * Worker management as later Flamenco Managers offer it: `GET /api/worker-mgt/workers` (status,
 * last seen, current task, pending status request) and
 * `POST /api/worker-mgt/workers/{worker_id}/setstatus` `{status, is_lazy}`.
 */
export function workerMgtRoutes(farm: Farm) {
  const app = new Hono();

  app.get("/worker-mgt/workers", async (c) => {
    const workers = await farm.workers.list();
    return c.json({ workers: workers.map(workerSummaryToWire) });
  });

  app.post("/worker-mgt/workers/:worker_id/setstatus", bodyCap(64 * 1024), async (c) => {
    const { worker_id } = params(c.req.param(), WorkerIdParam);
    const body = await jsonBody(c, WorkerStatusChangeRequest);
    await farm.workers.requestStatus(worker_id, body.status, body.is_lazy);
    return c.body(null, 204);
  });

  return app;
}
