import { Hono } from "hono";
import { TaskIdParam, TaskStatusChangeV3 } from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { flamencoV3Services } from "../../src/app/flamenco-v3.js";
import { jsonBody, params } from "../flamenco/validate.js";
import { bodyCap } from "../flamenco/worker-auth.js";

/**
 * `POST /api/v3/tasks/{id}/setstatus` `{status, reason}`: an operator requeues (`queued`) or
 * cancels one task (src/domain/scheduling/task-status.ts); 422 when that does not fit the task.
 */
export function taskStatusRoutes(farm: Farm) {
  const app = new Hono();
  app.post("/tasks/:task_id/setstatus", bodyCap(64 * 1024), async (c) => {
    const { task_id } = params(c.req.param(), TaskIdParam);
    const body = await jsonBody(c, TaskStatusChangeV3);
    await flamencoV3Services(farm).taskStatus.setStatus(task_id, body.status, body.reason);
    return c.body(null, 204);
  });
  return app;
}
