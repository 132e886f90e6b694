import { Hono } from "hono";
import {
  WorkerIdParam,
  WorkerStatusChangeRequestV3,
  type WorkerSummaryV3,
  type WorkerV3,
} from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { TASK_PRIORITY } from "../../src/domain/scheduling/task-view.js";
import type { WorkerSummary } from "../../src/domain/workers/worker.js";
import { jsonBody, params } from "../flamenco/validate.js";
import { bodyCap } from "../flamenco/worker-auth.js";
import { workerStatusV3 } from "./wire.js";

function summaryV3(w: WorkerSummary): WorkerSummaryV3 {
  return {
    id: w.id,
    name: w.nickname,
    status: workerStatusV3(w.status),
    ...(w.request ? { status_change: { status: workerStatusV3(w.request.status), is_lazy: w.request.lazy } } : {}),
    last_seen: new Date(w.lastSeen).toISOString(),
    version: w.software,
  };
}

function workerV3(w: WorkerSummary): WorkerV3 {
  const t = w.currentTask;
  return {
    ...summaryV3(w),
    ip_address: w.address,
    platform: w.platform,
    supported_task_types: [...w.taskTypes],
    ...(t
      ? {
          task: {
            id: t.id,
            name: t.name,
            status: "active",
            priority: TASK_PRIORITY,
            task_type: t.taskType,
            updated: t.updated,
            job_id: t.jobId,
          },
        }
      : {}),
  };
}

/**
 * Worker management of Flamenco 3 (workers of either dialect): `GET /api/v3/worker-mgt/workers`,
 * `GET .../workers/{id}` (`Worker`: address, platform, task types, current task) and
 * `POST .../workers/{id}/setstatus` `{status, is_lazy}` (the verb of the 2022 route).
 */
export function workerMgtRoutesV3(farm: Farm) {
  const app = new Hono();

  app.get("/worker-mgt/workers", async (c) => {
    const workers = await farm.workers.list();
    return c.json({ workers: workers.map(summaryV3) });
  });

  app.get("/worker-mgt/workers/:worker_id", async (c) => {
    const { worker_id } = params(c.req.param(), WorkerIdParam);
    return c.json(workerV3(await farm.workers.summary(worker_id)));
  });

  app.post("/worker-mgt/workers/:worker_id/setstatus", bodyCap(64 * 1024), async (c) => {
    const { worker_id } = params(c.req.param(), WorkerIdParam);
    const body = await jsonBody(c, WorkerStatusChangeRequestV3);
    await farm.workers.requestStatus(worker_id, body.status, body.is_lazy);
    return c.body(null, 204);
  });

  return app;
}
