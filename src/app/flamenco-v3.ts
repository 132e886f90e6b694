import { RedisJobBlocklist } from "../../adapters/redis/redis-job-blocklist.js";
import { RedisWorkerStore } from "../../adapters/redis/redis-worker-store.js";
import { LastRenderedFiles } from "../../adapters/storage/last-rendered-files.js";
import { JobBlocklist } from "../domain/jobs/job-blocklist.js";
import { LastRendered } from "../domain/jobs/last-rendered.js";
import { TaskDetailsReader } from "../domain/scheduling/task-details.js";
import { TaskStatusChanges } from "../domain/scheduling/task-status.js";
import { TaskRunCheck } from "../domain/workers/may-i-run.js";
import type { Farm } from "./farm.js";

/** The verbs only Flamenco 3 clients ask for, over the farm's own services and stores. */
export interface FlamencoV3Services {
  runCheck: TaskRunCheck;
  lastRendered: LastRendered;
  blocklist: JobBlocklist;
  taskStatus: TaskStatusChanges;
  taskDetails: TaskDetailsReader;
}

const built = new WeakMap<Farm, FlamencoV3Services>();

/** The farm's Flamenco 3 services, built once per farm. */
export function flamencoV3Services(farm: Farm): FlamencoV3Services {
  let s = built.get(farm);
  if (!s) {
    const workerStore = new RedisWorkerStore(farm.redis, farm.keys, farm.config.TASK_LOG_MAX);
    s = {
      runCheck: new TaskRunCheck(farm.work, workerStore, farm.jobs),
      lastRendered: new LastRendered(farm.work, new LastRenderedFiles(farm.redis, farm.keys, farm.config.dataDir), {
        minIntervalMs: farm.config.OUTPUT_PRODUCED_INTERVAL,
      }),
      blocklist: new JobBlocklist(new RedisJobBlocklist(farm.redis, farm.keys), farm.jobs, farm.sessions),
      taskStatus: new TaskStatusChanges(farm.work, farm.jobs, workerStore),
      taskDetails: new TaskDetailsReader(farm.work, farm.jobs, farm.sessions, workerStore),
    };
    built.set(farm, s);
  }
  return s;
}
