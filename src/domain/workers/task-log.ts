import { notFound } from "../errors.js";
import type { WorkService } from "../scheduling/work-service.js";
import type { WorkerStore } from "./worker-store.js";

/** The time at the start of a line the Manager writes into a task's log. */
export const stamp = () => new Date().toISOString();

/** The task's log; `not-found` for an unknown task. */
export async function readTaskLog(work: WorkService, store: WorkerStore, taskId: string): Promise<string> {
  if (!(await work.lease(taskId))) throw notFound(`no task ${taskId}`);
  return store.taskLog(taskId);
}
