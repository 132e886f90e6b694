import type { SleepSchedule } from "./sleep-schedule.js";
import type { StatusRequest, WorkerStatus } from "./worker.js";

/**
 * What the farm keeps about Flamenco workers beyond their session (adapters/redis/redis-worker-store.ts):
 * the hashed secret, a pending status request, the sleep schedule, the tasks' logs and activities, and the lock of
 * the workers' sweep.
 */
export interface WorkerStore {
  saveSecret(workerId: string, hash: string): Promise<void>;
  /** The hashed secret, or null for an unknown worker. */
  secret(workerId: string): Promise<string | null>;
  /** Sets the worker's pending status request; null clears it. */
  setRequest(workerId: string, request: StatusRequest | null): Promise<void>;
  request(workerId: string): Promise<StatusRequest | null>;
  /** Clears the request when it asks for `status` (or when there is none); true when none is left. */
  clearRequestIf(workerId: string, status: WorkerStatus): Promise<boolean>;
  /**
   * Appends `log` to the task's log (bounded: the oldest lines go first) and, when given, replaces
   * its one-line activity. Does nothing for a task that does not exist.
   */
  noteTask(taskId: string, note: { log?: string; activity?: string }): Promise<void>;
  /** The task's last activity line from its worker; "" when it has none. */
  taskActivity(taskId: string): Promise<string>;
  /** The task's log; "" when it has none. */
  taskLog(taskId: string): Promise<string>;
  /** Stores the worker's sleep schedule; null removes it. */
  setSleepSchedule(workerId: string, schedule: SleepSchedule | null): Promise<void>;
  /** The worker's sleep schedule, or null. */
  sleepSchedule(workerId: string): Promise<SleepSchedule | null>;
  /** Ids of the workers that have a sleep schedule. */
  sleepScheduledWorkers(): Promise<string[]>;
  /** Takes the named lock for `ms` unless another process holds it; true when taken. */
  tryLock(name: string, ms: number): Promise<boolean>;
}
