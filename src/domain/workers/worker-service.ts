import type { JobService } from "../jobs/job-service.js";
import type { ToolsByPlatform } from "../jobs/task-commands.js";
import type { WorkService } from "../scheduling/work-service.js";
import type { Session, SessionStore } from "../sessions/session.js";
import { LivenessSweep } from "./liveness-sweep.js";
import { NextTask } from "./next-task.js";
import { SleepSchedules } from "./sleep-schedules.js";
import { StatusRequests } from "./status-requests.js";
import { readTaskLog } from "./task-log.js";
import { type TaskUpdate, TaskUpdates } from "./task-updates.js";
import type { AssignedTask, Worker, WorkerStatus, WorkerSummary } from "./worker.js";
import { WorkerAuthentication, type WorkerAuthenticationOptions } from "./worker-authentication.js";
import { WorkerList } from "./worker-list.js";
import { findWorker } from "./worker-lookup.js";
import { type WorkerInfo, WorkerRegistration } from "./worker-registration.js";
import { WorkerSignOn } from "./worker-sign-on.js";
import type { WorkerStore } from "./worker-store.js";

export { mayKeepRunning } from "./may-keep-running.js";
export type { TaskUpdate } from "./task-updates.js";
export type { WorkerInfo } from "./worker-registration.js";

export interface WorkerServiceOptions extends WorkerAuthenticationOptions {
  /** Lease of a task; every update from its worker extends it (TASK_TIMEOUT). */
  taskTimeoutMs: number;
  /** A worker unseen this long goes to `error` and its tasks go back in line (WORKER_TIMEOUT). */
  workerTimeoutMs: number;
  /** How often the sweep runs (SWEEP_INTERVAL); its lock lasts a little less. */
  sweepIntervalMs: number;
  /** `{blender}` and `{ffmpeg}` per worker platform. */
  tools: ToolsByPlatform;
  /** Networks `register-worker` accepts (WORKER_ALLOWED_NETWORKS); empty for all. */
  allowedNetworks: readonly string[];
}

/**
 * Flamenco workers, one verb group a file: registration (worker-registration.ts), authentication
 * (worker-authentication.ts), sign-on and sign-off (worker-sign-on.ts), the state handshake and
 * operators' status requests (status-requests.ts), tasks (next-task.ts, task-updates.ts,
 * task-log.ts), the worker list (worker-list.ts) and the liveness sweep (liveness-sweep.ts). This
 * facade is what the farm and the routes hold; the HTTP routes only parse and render.
 */
export class WorkerService {
  /** Workers' sleep schedules, applied whenever a worker asks for work or its state. */
  readonly sleep: SleepSchedules;
  private readonly registration: WorkerRegistration;
  private readonly authentication: WorkerAuthentication;
  private readonly signOns: WorkerSignOn;
  private readonly requests: StatusRequests;
  private readonly tasks: NextTask;
  private readonly updates: TaskUpdates;
  private readonly workers: WorkerList;
  private readonly liveness: LivenessSweep;

  constructor(
    private readonly sessions: SessionStore,
    private readonly store: WorkerStore,
    private readonly work: WorkService,
    jobs: JobService,
    opts: WorkerServiceOptions,
  ) {
    const worker = (id: string) => this.get(id);
    this.registration = new WorkerRegistration(sessions, store, opts.allowedNetworks);
    this.authentication = new WorkerAuthentication(sessions, store, opts);
    this.sleep = new SleepSchedules(store, sessions, worker);
    this.signOns = new WorkerSignOn(sessions, store, work, worker);
    this.requests = new StatusRequests(sessions, store, work, this.sleep, worker);
    this.tasks = new NextTask(store, work, jobs, this.sleep, opts, worker);
    this.updates = new TaskUpdates(store, work, jobs, opts.taskTimeoutMs, worker);
    this.workers = new WorkerList(sessions, store, work);
    this.liveness = new LivenessSweep(sessions, store, work, this.sleep, opts);
  }

  /** Secrets checked (scrypt) by this service since it was made. */
  get secretChecks(): number {
    return this.authentication.secretChecks;
  }

  /** Registers a new worker with its own secret; only from the allowed networks. */
  register(info: WorkerInfo & { secret: string; platform: string }): Promise<Worker> {
    return this.registration.register(info);
  }

  /** Checks a worker's credentials and records that it was seen (WorkerAuthentication.authenticate). */
  async authenticate(workerId: string, secret: string, address = ""): Promise<string> {
    await this.authentication.authenticate(workerId, secret, address);
    return workerId;
  }

  /** As `authenticate`, answering the worker's session as read with the touch (one round trip). */
  authenticateSession(workerId: string, secret: string, address = ""): Promise<Session> {
    return this.authentication.authenticate(workerId, secret, address);
  }

  /** The worker; `not-found` for an unknown one. */
  get(workerId: string): Promise<Worker> {
    return findWorker(this.sessions, workerId);
  }

  /** The worker is starting; answers the status it must go to. */
  signOn(workerId: string, info: WorkerInfo & { software: string }): Promise<WorkerStatus> {
    return this.signOns.signOn(workerId, info);
  }

  /** The worker goes offline; whatever it held goes back in line at once. */
  signOff(workerId: string): Promise<void> {
    return this.signOns.signOff(workerId);
  }

  /** The status the worker is asked to go to, or null. */
  requestedStatus(workerId: string): Promise<WorkerStatus | null> {
    return this.requests.requestedStatus(workerId);
  }

  /** The worker changed status (as asked, or on its own). */
  stateChanged(workerId: string, status: WorkerStatus): Promise<void> {
    return this.requests.stateChanged(workerId, status);
  }

  /** An operator asks the worker to go to `status`; lazily: after its current task. */
  requestStatus(workerId: string, status: WorkerStatus, lazy: boolean): Promise<void> {
    return this.requests.requestStatus(workerId, status, lazy);
  }

  /**
   * A task for the worker: the one it holds, else a new claim; null when nothing fits. `seen`:
   * the worker's session as this request's authentication read it (not read again).
   */
  nextTask(workerId: string, seen?: Session): Promise<AssignedTask | null> {
    return this.tasks.nextTask(workerId, seen);
  }

  /** A task update from its worker (TaskUpdates.updateTask). */
  updateTask(workerId: string, taskId: string, update: TaskUpdate): Promise<void> {
    return this.updates.updateTask(workerId, taskId, update);
  }

  /** The task's log; `not-found` for an unknown task. */
  taskLog(taskId: string): Promise<string> {
    return readTaskLog(this.work, this.store, taskId);
  }

  /** Every worker, most recently seen first, with its pending request and current task. */
  list(): Promise<WorkerSummary[]> {
    return this.workers.list();
  }

  /** One worker with its pending request and current task; `not-found` for an unknown worker. */
  async summary(workerId: string): Promise<WorkerSummary> {
    return this.workers.summarise(await this.get(workerId));
  }

  /** The liveness sweep; how many workers timed out, or null when another process holds the lock. */
  sweep(now = Date.now()): Promise<number | null> {
    return this.liveness.sweep(now);
  }
}
