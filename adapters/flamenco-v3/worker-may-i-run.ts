import { Hono } from "hono";
import { MayKeepRunning, TaskIdParam } from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { flamencoV3Services } from "../../src/app/flamenco-v3.js";
import { params } from "../flamenco/validate.js";
import { workerId } from "../flamenco/worker-auth.js";
import { workerAuthV3 } from "./worker-auth.js";

/** `GET /api/v3/worker/task/{task_id}/may-i-run`: always 200 `MayKeepRunning` for a known worker. */
export function mayIRunRoutes(farm: Farm) {
  const app = new Hono();
  app.get("/worker/task/:task_id/may-i-run", workerAuthV3(farm), async (c) => {
    const { task_id } = params(c.req.param(), TaskIdParam);
    const verdict = await flamencoV3Services(farm).runCheck.check(workerId(c), task_id);
    return c.json(MayKeepRunning.parse(verdict));
  });
  return app;
}
