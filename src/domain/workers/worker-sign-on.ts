import type { WorkService } from "../scheduling/work-service.js";
import type { SessionStore } from "../sessions/session.js";
import { plainAddress } from "./networks.js";
import { normaliseTaskTypes, type Worker, type WorkerStatus } from "./worker.js";
import type { WorkerInfo } from "./worker-registration.js";
import type { WorkerStore } from "./worker-store.js";

/** A worker starting (sign-on: what it is, which status to go to) and going offline (sign-off). */
export class WorkerSignOn {
  constructor(
    private readonly sessions: SessionStore,
    private readonly store: WorkerStore,
    private readonly work: WorkService,
    /** The worker; `not-found` for an unknown one. */
    private readonly worker: (id: string) => Promise<Worker>,
  ) {}

  /**
   * The worker is starting: its nickname, task types and software are saved. Answers the status
   * it must go to: a pending request, else `awake`.
   */
  async signOn(workerId: string, info: WorkerInfo & { software: string }): Promise<WorkerStatus> {
    const [w, request] = await Promise.all([this.worker(workerId), this.store.request(workerId)]);
    await this.sessions.update(workerId, {
      name: info.nickname,
      status: "starting",
      caps: { sessionId: workerId, taskTypes: normaliseTaskTypes(info.taskTypes), device: "any" },
      attrs: { platform: w.platform, address: plainAddress(info.address), software: info.software },
    });
    return request?.status ?? "awake";
  }

  /** The worker goes offline; whatever it held goes back in line at once. */
  async signOff(workerId: string): Promise<void> {
    await this.worker(workerId);
    await this.sessions.update(workerId, { status: "offline" });
    const request = await this.store.request(workerId);
    if (request?.status === "offline") await this.store.setRequest(workerId, null);
    await this.work.releaseAll(workerId);
  }
}
