import { taskName } from "../scheduling/task-view.js";
import type { WorkService } from "../scheduling/work-service.js";
import type { SessionStore } from "../sessions/session.js";
import { type Worker, type WorkerSummary, workerFromSession } from "./worker.js";
import type { WorkerStore } from "./worker-store.js";

/** Workers as operators see them: each with its pending request and current task. */
export class WorkerList {
  constructor(
    private readonly sessions: SessionStore,
    private readonly store: WorkerStore,
    private readonly work: WorkService,
  ) {}

  /** Every worker, most recently seen first, with its pending request and current task. */
  async list(): Promise<WorkerSummary[]> {
    const sessions = await this.sessions.list("flamenco");
    return Promise.all(sessions.map((s) => this.summarise(workerFromSession(s))));
  }

  /** One worker with its pending request and current task. */
  async summarise(w: Worker): Promise<WorkerSummary> {
    const [request, held] = await Promise.all([this.store.request(w.id), this.work.held(w.id)]);
    const lease = held[0];
    return {
      ...w,
      request,
      currentTask: lease
        ? { id: lease.id, name: taskName(lease), jobId: lease.jobId, taskType: lease.taskType, updated: lease.updated }
        : null,
    };
  }
}
