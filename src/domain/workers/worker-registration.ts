import { randomUUID } from "node:crypto";
import { FarmError } from "../errors.js";
import { hashSecret } from "../secrets.js";
import type { Session, SessionStore } from "../sessions/session.js";
import { AllowedNetworks, plainAddress } from "./networks.js";
import { normaliseTaskTypes, type Worker, workerFromSession } from "./worker.js";
import type { WorkerStore } from "./worker-store.js";

/** What a worker says about itself when it registers or signs on. */
export interface WorkerInfo {
  nickname: string;
  taskTypes: readonly string[];
  /** The address the request came from. */
  address: string;
}

/** `register-worker`: a new worker with its own secret (kept as a scrypt hash), only from the allowed networks. */
export class WorkerRegistration {
  private readonly networks: AllowedNetworks;

  constructor(
    private readonly sessions: SessionStore,
    private readonly store: WorkerStore,
    /** Networks `register-worker` accepts (WORKER_ALLOWED_NETWORKS); empty for all. */
    allowedNetworks: readonly string[],
  ) {
    this.networks = new AllowedNetworks(allowedNetworks);
  }

  /** Registers a new worker with its own secret; only from the allowed networks. */
  async register(info: WorkerInfo & { secret: string; platform: string }): Promise<Worker> {
    const address = plainAddress(info.address);
    if (!this.networks.allows(address)) {
      throw new FarmError("forbidden", `workers may not register from ${address || "an unknown address"}`);
    }
    const id = randomUUID();
    const now = Date.now();
    await this.store.saveSecret(id, await hashSecret(info.secret));
    const session: Session = {
      id,
      protocol: "flamenco",
      name: info.nickname,
      status: "starting",
      caps: { sessionId: id, taskTypes: normaliseTaskTypes(info.taskTypes), device: "any" },
      created: new Date(now).toISOString(),
      lastSeen: now,
      attrs: { platform: info.platform.trim().toLowerCase(), address, software: "" },
    };
    await this.sessions.put(session);
    return workerFromSession(session);
  }
}
