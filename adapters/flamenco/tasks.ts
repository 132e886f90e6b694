import { Hono } from "hono";
import { TaskIdParam } from "../../contracts/flamenco/index.js";
import type { Farm } from "../../src/app/farm.js";
import { params } from "./validate.js";

/** `GET /api/tasks/{task_id}/log`: the task's log as plain text (bounded by TASK_LOG_MAX). */
export function taskLogRoutes(farm: Farm) {
  const app = new Hono();
  app.get("/tasks/:task_id/log", async (c) => {
    const { task_id } = params(c.req.param(), TaskIdParam);
    return c.text(await farm.workers.taskLog(task_id), 200, { "Content-Type": "text/plain; charset=utf-8" });
  });
  return app;
}
