import { Hono } from "hono";
import { TaskIdParam } from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { flamencoV3Services } from "../../src/app/flamenco-v3.js";
import { FarmError } from "../../src/domain/errors.js";
import type { Lease } from "../../src/domain/scheduling/capabilities.js";
import { params } from "../flamenco/validate.js";
import { taskToWireV3, waitingVideoTaskV3 } from "./task-wire.js";

/** Lines `logtail` answers. */
const TAIL_LINES = 20;

async function leaseOf(farm: Farm, taskId: string): Promise<Lease> {
  const lease = await farm.work.lease(taskId);
  if (!lease) throw new FarmError("not-found", `no task ${taskId}`);
  return lease;
}

/**
 * Tasks as the 3.x web UI reads them: `GET /api/v3/tasks/{id}` (`Task`, with its activity and
 * compiled commands; a job's video task before anyone took it too), `.../log` (`TaskLogInfo`:
 * the whole log is `GET /api/tasks/{id}/log`), `.../logtail` (its last lines as text).
 */
export function taskRoutesV3(farm: Farm) {
  const app = new Hono();

  app.get("/tasks/:task_id", async (c) => {
    const { task_id } = params(c.req.param(), TaskIdParam);
    const details = await flamencoV3Services(farm).taskDetails.get(task_id);
    if (details) return c.json(await taskToWireV3(farm, details));
    const waiting = await waitingVideoTaskV3(farm, task_id);
    if (!waiting) throw new FarmError("not-found", `no task ${task_id}`);
    return c.json(waiting);
  });

  app.get("/tasks/:task_id/log", async (c) => {
    const { task_id } = params(c.req.param(), TaskIdParam);
    const lease = await leaseOf(farm, task_id);
    const log = await farm.workers.taskLog(task_id);
    if (log === "") return c.body(null, 204);
    return c.json({
      task_id,
      job_id: lease.jobId,
      url: `/api/tasks/${task_id}/log`,
      size: Buffer.byteLength(log),
    });
  });

  app.get("/tasks/:task_id/logtail", async (c) => {
    const { task_id } = params(c.req.param(), TaskIdParam);
    const log = await farm.workers.taskLog(task_id);
    if (log === "") return c.body(null, 204);
    const lines = log.replace(/\n$/, "").split("\n");
    return c.text(`${lines.slice(-TAIL_LINES).join("\n")}\n`, 200, { "Content-Type": "text/plain; charset=utf-8" });
  });

  return app;
}
