import { Hono } from "hono";
import {
  type AssignedTask as AssignedTaskWire,
  type RegisteredWorker as RegisteredWorkerWire,
  TaskIdParam,
  TaskUpdate,
  WorkerRegistration,
  WorkerSignOn,
  WorkerStateChanged,
} from "../../contracts/flamenco/index.js";
import type { Farm } from "../../src/app/farm.js";
import type { AssignedTask, Worker } from "../../src/domain/workers/worker.js";
import { jsonBody, params } from "./validate.js";
import { bodyCap, remoteAddress, workerAuth, workerId, workerSession } from "./worker-auth.js";

/** Bodies of worker calls other than task updates are small. */
const SMALL_BODY = 64 * 1024;

function registeredWorker(w: Worker): RegisteredWorkerWire {
  return {
    uuid: w.id,
    nickname: w.nickname,
    address: w.address,
    status: w.status,
    platform: w.platform,
    current_task: "",
    last_activity: "",
    software: w.software,
    supported_task_types: [...w.taskTypes],
  };
}

export function assignedTaskToWire(t: AssignedTask): AssignedTaskWire {
  return {
    uuid: t.id,
    job: t.jobId,
    name: t.name,
    status: t.status,
    priority: t.priority,
    job_priority: t.jobPriority,
    job_type: t.jobType,
    task_type: t.taskType,
    commands: t.commands,
  };
}

/**
 * The worker API: `register-worker` (from WORKER_ALLOWED_NETWORKS: loopback and private networks by default), then with
 * HTTP Basic auth `sign-on`, `sign-off`, `state`, `state-changed`, `task` and `task/{task_id}`.
 */
export function workerRoutes(farm: Farm) {
  const app = new Hono();
  const auth = workerAuth(farm);
  const small = bodyCap(SMALL_BODY);
  const update = bodyCap(farm.config.TASK_LOG_MAX + SMALL_BODY);

  app.post("/worker/register-worker", small, async (c) => {
    const body = await jsonBody(c, WorkerRegistration);
    const worker = await farm.workers.register({
      secret: body.secret,
      nickname: body.nickname,
      platform: body.platform,
      taskTypes: body.supported_task_types,
      address: remoteAddress(c),
    });
    c.set("sessionId" as never, worker.id as never);
    return c.json(registeredWorker(worker));
  });

  app.post("/worker/sign-on", auth, small, async (c) => {
    const body = await jsonBody(c, WorkerSignOn);
    const status = await farm.workers.signOn(workerId(c), {
      nickname: body.nickname,
      taskTypes: body.supported_task_types,
      software: body.software_version,
      address: remoteAddress(c),
    });
    return c.json({ status_requested: status });
  });

  app.post("/worker/sign-off", auth, async (c) => {
    await farm.workers.signOff(workerId(c));
    return c.body(null, 204);
  });

  app.get("/worker/state", auth, async (c) => {
    const status = await farm.workers.requestedStatus(workerId(c));
    return status ? c.json({ status_requested: status }) : c.body(null, 204);
  });

  app.post("/worker/state-changed", auth, small, async (c) => {
    const body = await jsonBody(c, WorkerStateChanged);
    await farm.workers.stateChanged(workerId(c), body.status);
    return c.body(null, 204);
  });

  app.post("/worker/task", auth, async (c) => {
    const task = await farm.workers.nextTask(workerId(c), workerSession(c));
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
