import { Hono } from "hono";
import { WorkerIdParam, WorkerSleepScheduleV3 } from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { jsonBody, params } from "../flamenco/validate.js";
import { bodyCap } from "../flamenco/worker-auth.js";

/**
 * `GET/POST /api/v3/worker-mgt/workers/{id}/sleep-schedule`: a worker's `WorkerSleepSchedule`
 * (204 when it has none), stored and applied by `WorkerService` (src/domain/workers/sleep-schedule.ts).
 */
export function workerSleepScheduleRoutes(farm: Farm) {
  const app = new Hono();
  const route = "/worker-mgt/workers/:worker_id/sleep-schedule";

  app.get(route, async (c) => {
    const { worker_id } = params(c.req.param(), WorkerIdParam);
    const s = await farm.workers.sleep.get(worker_id);
    if (!s) return c.body(null, 204);
    return c.json({ is_active: s.isActive, days_of_week: s.daysOfWeek, start_time: s.startTime, end_time: s.endTime });
  });

  app.post(route, bodyCap(64 * 1024), async (c) => {
    const { worker_id } = params(c.req.param(), WorkerIdParam);
    const body = await jsonBody(c, WorkerSleepScheduleV3);
    await farm.workers.sleep.set(worker_id, {
      isActive: body.is_active,
      daysOfWeek: body.days_of_week,
      startTime: body.start_time,
      endTime: body.end_time,
    });
    return c.body(null, 204);
  });

  return app;
}
