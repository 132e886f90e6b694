import { Hono } from "hono";
import {
  type RegisteredWorkerV3,
  TaskIdParam,
  TaskUpdate,
  WorkerRegistrationV3,
  WorkerSignOnV3,
  WorkerStateChangedV3,
} from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import type { Worker } from "../../src/domain/workers/worker.js";
import { jsonBody, params } from "../flamenco/validate.js";
import { assignedTaskToWire } from "../flamenco/worker.js";
import { bodyCap, remoteAddress, workerId } from "../flamenco/worker-auth.js";
import { workerStatusV3 } from "./wire.js";
import { workerAuthV3 } from "./worker-auth.js";

/** Bodies of worker calls other than task updates are small. */
const SMALL_BODY = 64 * 1024;

function registeredWorker(w: Worker): RegisteredWorkerV3 {
  return {
    uuid: w.id,
    name: w.nickname,
    address: w.address,
    status: workerStatusV3(w.status),
    platform: w.platform,
    current_task: "",
    software: w.software,
    supported_task_types: [...w.taskTypes],
  };
}

/**
 * Flamenco 3's worker cycle under `/api/v3/worker`: the same domain verbs as the 2022 routes
 * (adapters/flamenco/worker.ts), so a worker registered here is a worker of the same farm. Only
 * the words differ (`name`, 3.x statuses, 403 on any auth failure).
 */
export function workerRoutesV3(farm: Farm) {
  const app = new Hono();
  const auth = workerAuthV3(farm);
  const small = bodyCap(SMALL_BODY);
  const update = bodyCap(farm.config.TASK_LOG_MAX + SMALL_BODY);

  app.post("/worker/register-worker", small, async (c) => {
    const body = await jsonBody(c, WorkerRegistrationV3);
    const worker = await farm.workers.register({
      secret: body.secret,
      nickname: body.name,
      platform: body.platform,
      taskTypes: body.supported_task_types,
      address: remoteAddress(c),
    });
    c.set("sessionId" as never, worker.id as never);
    return c.json(registeredWorker(worker));
  });

  app.post("/worker/sign-on", auth, small, async (c) => {
    const body = await jsonBody(c, WorkerSignOnV3);
    const status = await farm.workers.signOn(workerId(c), {
      nickname: body.name,
      taskTypes: body.supported_task_types,
      software: body.software_version,
      address: remoteAddress(c),
    });
    return c.json({ status_requested: workerStatusV3(status) });
  });

  app.post("/worker/sign-off", auth, async (c) => {
    await farm.workers.signOff(workerId(c));
    return c.body(null, 204);
  });

  app.get("/worker/state", auth, async (c) => {
    const status = await farm.workers.requestedStatus(workerId(c));
    return status ? c.json({ status_requested: workerStatusV3(status) }) : c.body(null, 204);
  });

  app.post("/worker/state-changed", auth, small, async (c) => {
    const body = await jsonBody(c, WorkerStateChangedV3);
    await farm.workers.stateChanged(workerId(c), body.status);
    return c.body(null, 204);
  });

  app.post("/worker/task", auth, async (c) => {
    const task = await farm.workers.nextTask(workerId(c));
    if (!task) return c.body(null, 204);
    c.set("jobId" as never, task.jobId as never);
    return c.json(assignedTaskToWire(task));
  });

  app.post("/worker/task/:task_id", auth, update, async (c) => {
    const { task_id } = params(c.req.param(), TaskIdParam);
    const body = await jsonBody(c, TaskUpdate);
    await farm.workers.updateTask(workerId(c), task_id, {
      ...(body.taskStatus !== undefined ? { status: body.taskStatus } : {}),
      ...(body.activity !== undefined ? { activity: body.activity } : {}),
      ...(body.log !== undefined ? { log: body.log } : {}),
    });
    return c.body(null, 204);
  });

  return app;
}
