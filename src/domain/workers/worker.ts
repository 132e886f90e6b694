import type { TaskCommand } from "../jobs/task-commands.js";
import type { Session } from "../sessions/session.js";

/** Flamenco's `WorkerStatus` values. */
export const workerStatuses = ["starting", "awake", "asleep", "error", "shutdown", "testing", "offline"] as const;
export type WorkerStatus = (typeof workerStatuses)[number];

/** Statuses an operator may ask a worker to go to. */
export const requestableStatuses: readonly WorkerStatus[] = ["asleep", "awake", "offline"];

/** A status asked of a worker; `lazy`: once it has finished its current task. */
export interface StatusRequest {
  status: WorkerStatus;
  lazy: boolean;
}

/** A Flamenco worker: a session of protocol `flamenco` whose id is the worker's UUID. */
export interface Worker {
  id: string;
  nickname: string;
  status: WorkerStatus;
  platform: string;
  address: string;
  software: string;
  taskTypes: readonly string[];
  created: string;
  lastSeen: number;
}

export function isWorkerStatus(s: string): s is WorkerStatus {
  return (workerStatuses as readonly string[]).includes(s);
}

export function workerFromSession(s: Session): Worker {
  return {
    id: s.id,
    nickname: s.name,
    status: isWorkerStatus(s.status) ? s.status : "offline",
    platform: s.attrs.platform ?? "",
    address: s.attrs.address ?? "",
    software: s.attrs.software ?? "",
    taskTypes: s.caps.taskTypes,
    created: s.created,
    lastSeen: s.lastSeen,
  };
}

/** Task types as Flamenco keeps them: trimmed, lower-case, no empty or repeated entries. */
export function normaliseTaskTypes(types: readonly string[]): string[] {
  return [...new Set(types.map((t) => t.trim().toLowerCase()).filter(Boolean))];
}

/** A task handed to a worker (Flamenco's `AssignedTask`). */
export interface AssignedTask {
  id: string;
  jobId: string;
  name: string;
  status: "active";
  priority: number;
  jobPriority: number;
  jobType: string;
  taskType: string;
  commands: TaskCommand[];
}

/** A worker as the worker list shows it. */
export interface WorkerSummary extends Worker {
  request: StatusRequest | null;
  currentTask: { id: string; name: string; jobId: string; taskType: string; updated: string } | null;
}
