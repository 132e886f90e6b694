import { randomUUID } from "node:crypto";
import type { AttemptLimiter } from "../attempt-limiter.js";
import { CheckGate } from "../check-gate.js";
import { FarmError, invalid, isFarmError, notFound } from "../errors.js";
import type { Job } from "../jobs/job.js";
import { type JobStatus, runnableStatuses } from "../jobs/job.js";
import type { JobService } from "../jobs/job-service.js";
import { type ToolsByPlatform, taskCommands, toolsFor } from "../jobs/task-commands.js";
import type { Lease } from "../scheduling/capabilities.js";
import { TASK_PRIORITY, taskName } from "../scheduling/task-view.js";
import type { WorkService } from "../scheduling/work-service.js";
import { dummyHash, hashSecret, verifySecret } from "../secrets.js";
import type { Session, SessionStore } from "../sessions/session.js";
import { AllowedNetworks, plainAddress } from "./networks.js";
import { VerifiedCredentials } from "./secrets.js";
import { SleepSchedules } from "./sleep-schedules.js";
import {
  type AssignedTask,
  normaliseTaskTypes,
  requestableStatuses,
  type Worker,
  type WorkerStatus,
  type WorkerSummary,
  workerFromSession,
} from "./worker.js";
import type { WorkerStore } from "./worker-store.js";

export interface WorkerServiceOptions {
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
  /** How long a verified secret is remembered in this process. */
  credentialsTtlMs?: number;
  /** Counts secret checks per address (a slot taken before hashing, given back when right). */
  authLimiter?: AttemptLimiter;
  /** Wrong secrets per address within the limiter's window before checks are refused unhashed (WORKER_AUTH_RATE_LIMIT). */
  authFailuresPerAddress?: number;
  /** Secret checks one process runs at once (more wait, a few; past that 503). */
  concurrentChecks?: number;
}

/** What a worker says about itself when it registers or signs on. */
export interface WorkerInfo {
  nickname: string;
  taskTypes: readonly string[];
  /** The address the request came from. */
  address: string;
}

/** A task update from its worker. `log` is appended, `activity` replaces the last one. */
export interface TaskUpdate {
  status?: string;
  activity?: string;
  log?: string;
}

/** Job statuses in which a worker may go on with a task it holds (a paused job's held work may finish). */
export function mayKeepRunning(status: JobStatus): boolean {
  return runnableStatuses.has(status) || status === "paused";
}

const stamp = () => new Date().toISOString();

/** null for a job that no longer exists; any other error goes on. */
function noJob(err: unknown): null {
  if (isFarmError(err, "not-found")) return null;
  throw err;
}

/**
 * Flamenco workers: registration with a hashed secret, authentication, sign-on and sign-off, the
 * state handshake and operators' status requests, tasks (leases of the scheduling core) with their
 * updates and logs, and the liveness sweep. Every rule about workers lives here; the HTTP routes
 * only parse and render.
 */
export class WorkerService {
  private readonly networks: AllowedNetworks;
  private readonly verified: VerifiedCredentials;
  private readonly gate: CheckGate;
  /** Secrets checked (scrypt) by this service since it was made. */
  secretChecks = 0;
  /** Addresses the limiter refused, until when this process refuses them without asking Redis. */
  private readonly refusedUntil = new Map<string, number>();
  /** Workers' sleep schedules, applied here whenever a worker asks for work or its state. */
  readonly sleep: SleepSchedules;

  constructor(
    private readonly sessions: SessionStore,
    private readonly store: WorkerStore,
    private readonly work: WorkService,
    private readonly jobs: JobService,
    private readonly opts: WorkerServiceOptions,
  ) {
    this.networks = new AllowedNetworks(opts.allowedNetworks);
    this.verified = new VerifiedCredentials(opts.credentialsTtlMs ?? 30_000);
    this.gate = new CheckGate(opts.concurrentChecks ?? 2);
    this.sleep = new SleepSchedules(store, sessions, (id) => this.get(id));
    // Hash the dummy secret now, so the first unknown worker is not answered faster.
    void dummyHash();
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

  /**
   * Checks a worker's credentials and records that it was seen. Unknown workers and wrong secrets
   * cost the same and both throw `forbidden`. Credentials verified in the last 30 s pass without
   * a check; any other check first takes a slot of its address (`address`), given back when the
   * secret is right, so past `authFailuresPerAddress` wrong secrets an address is refused
   * (`forbidden`, reason `rate-limited`) without hashing, while other addresses go on.
   */
  async authenticate(workerId: string, secret: string, address = ""): Promise<string> {
    const key = VerifiedCredentials.key(workerId, secret);
    if (!this.verified.has(key, workerId)) {
      const subject = `addr:${plainAddress(address)}`;
      const limiter = this.opts.authLimiter;
      if (limiter) {
        const throttled = () =>
          new FarmError("forbidden", "too many wrong worker credentials from this address; try again later", {
            reason: "rate-limited",
          });
        if ((this.refusedUntil.get(subject) ?? 0) > Date.now()) throw throttled();
        const refused = await limiter.reserve([{ subject, limit: this.opts.authFailuresPerAddress ?? 20 }]);
        if (refused !== null) {
          if (this.refusedUntil.size >= 10_000) this.refusedUntil.clear();
          this.refusedUntil.set(subject, Date.now() + 1_000);
          throw throttled();
        }
      }
      const stored = await this.store.secret(workerId);
      const ok = await this.gate.run(async () => {
        this.secretChecks++;
        return verifySecret(secret, stored ?? (await dummyHash()));
      });
      if (!ok || !stored) throw new FarmError("forbidden", "wrong worker credentials");
      await limiter?.refund([subject]);
      this.verified.add(key, workerId);
    }
    if (!(await this.sessions.touch(workerId))) {
      this.verified.forget(workerId);
      throw new FarmError("forbidden", "wrong worker credentials");
    }
    return workerId;
  }

  async get(workerId: string): Promise<Worker> {
    const s = await this.sessions.get(workerId);
    if (s?.protocol !== "flamenco") throw notFound(`no worker ${workerId}`);
    return workerFromSession(s);
  }

  /**
   * The worker is starting: its nickname, task types and software are saved. Answers the status
   * it must go to: a pending request, else `awake`.
   */
  async signOn(workerId: string, info: WorkerInfo & { software: string }): Promise<WorkerStatus> {
    const [w, request] = await Promise.all([this.get(workerId), this.store.request(workerId)]);
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
    await this.get(workerId);
    await this.sessions.update(workerId, { status: "offline" });
    const request = await this.store.request(workerId);
    if (request?.status === "offline") await this.store.setRequest(workerId, null);
    await this.work.releaseAll(workerId);
  }

  /**
   * The status the worker is asked to go to, or null. A lazy request waits until the worker holds
   * no task.
   */
  async requestedStatus(workerId: string): Promise<WorkerStatus | null> {
    const [w, stored, schedule] = await Promise.all([
      this.get(workerId),
      this.store.request(workerId),
      this.store.sleepSchedule(workerId),
    ]);
    const request = await this.sleep.apply(w, stored, schedule);
    if (!request) return null;
    if (request.lazy && (await this.work.held(workerId)).length > 0) return null;
    return request.status;
  }

  /**
   * The worker changed status (as asked, or on its own). A request it meets is cleared; a worker
   * that is not awake gives back what it holds.
   */
  async stateChanged(workerId: string, status: WorkerStatus): Promise<void> {
    await this.get(workerId);
    await this.sessions.update(workerId, { status });
    await this.store.clearRequestIf(workerId, status);
    if (status !== "awake") await this.work.releaseAll(workerId);
  }

  /**
   * An operator asks the worker to go to `status` (asleep, awake, offline); lazily: after its
   * current task. Asking for the status it has withdraws a pending request.
   */
  async requestStatus(workerId: string, status: WorkerStatus, lazy: boolean): Promise<void> {
    if (!requestableStatuses.includes(status)) {
      throw invalid("status", `a worker can be asked to go ${requestableStatuses.join(", ")}, not ${status}`);
    }
    const w = await this.get(workerId);
    await this.store.setRequest(workerId, w.status === status ? null : { status, lazy });
  }

  /**
   * A task for the worker: the one it holds, else a new claim of up to its job's chunk size of
   * consecutive frames (or a video task), null when nothing fits. Throws `state-change-pending`
   * (with `statusRequested`) when the worker must change status first, `wrong-state` when it is
   * not awake.
   */
  async nextTask(workerId: string): Promise<AssignedTask | null> {
    const [w, stored, held, schedule] = await Promise.all([
      this.get(workerId),
      this.store.request(workerId),
      this.work.held(workerId),
      this.store.sleepSchedule(workerId),
    ]);
    const request = await this.sleep.apply(w, stored, schedule);
    if (request && (!request.lazy || held.length === 0)) {
      throw new FarmError("state-change-pending", `the worker must go ${request.status} first`, {
        statusRequested: request.status,
      });
    }
    if (w.status !== "awake") {
      throw new FarmError("wrong-state", `worker is in state "${w.status}", requires state "awake" to execute tasks`);
    }
    const first = held[0];
    if (first) {
      const job = await this.jobs.get(first.jobId).catch(noJob);
      if (job && mayKeepRunning(job.status) && (await this.jobs.pathsStillSafe(job))) {
        return this.assignment(w, first, job);
      }
      await this.work.releaseAll(workerId);
    }
    let got = null;
    // A job whose paths now lead outside the storage (a link planted after submission) fails
    // instead of being handed out; the next job is tried.
    for (let tries = 0; tries < 3 && !got; tries++) {
      got = await this.work.claim({
        caps: { sessionId: workerId, taskTypes: w.taskTypes, device: "any" },
        maxFrames: "job-chunk",
        leaseMs: this.opts.taskTimeoutMs,
      });
      if (!got) return null;
      if (!(await this.jobs.pathsStillSafe(got.job))) got = null;
    }
    if (!got) return null;
    await this.store.noteTask(got.lease.id, { log: `${stamp()} Task assigned to worker ${w.nickname} (${w.id})\n` });
    return this.assignment(w, got.lease, got.job);
  }

  private assignment(w: Worker, lease: Lease, job: Job): AssignedTask {
    return {
      id: lease.id,
      jobId: job.id,
      name: taskName(lease, job),
      status: "active",
      priority: TASK_PRIORITY,
      jobPriority: job.priority,
      jobType: job.type,
      taskType: lease.taskType,
      commands: taskCommands(job, lease, toolsFor(this.opts.tools, w.platform)),
    };
  }

  /**
   * A task update from its worker: the log is appended and the activity replaced first, then the
   * status applied (`completed` completes the chunk's frames, `failed` applies the failure rules);
   * any other update extends the lease. `not-yours` (the worker must stop) when the task is not
   * the worker's, ran out, belongs to a job that stopped, or the worker is asked to change status
   * now.
   */
  async updateTask(workerId: string, taskId: string, update: TaskUpdate): Promise<void> {
    const status = update.status;
    if (status === "soft-failed") {
      throw invalid("taskStatus", "task status soft-failed is not allowed to be sent by a worker; send failed");
    }
    if (status !== undefined && status !== "active" && status !== "completed" && status !== "failed") {
      throw invalid("taskStatus", `a worker may send task status active, completed or failed, not ${status}`);
    }
    const [lease, request] = await Promise.all([this.work.lease(taskId), this.store.request(workerId)]);
    if (!lease) throw notFound(`no task ${taskId}`);
    if (lease.sessionId !== workerId) throw new FarmError("not-yours", `task ${taskId} is not assigned to you`);
    if (lease.state !== "active") {
      // A repeated final update (a retry after a lost answer) changes nothing; anything else
      // means the worker works on a task that is no longer its own.
      const same =
        (lease.state === "completed" && status === "completed") ||
        ((lease.state === "failed" || lease.state === "soft-failed") && status === "failed");
      if (same) return;
      throw new FarmError("not-yours", `task ${taskId} is no longer assigned to you (it is ${lease.state})`);
    }
    // The log first (it likely holds the reason for a status change), with the job's status.
    const [job] = await Promise.all([
      this.jobs.get(lease.jobId).catch(noJob),
      update.log || update.activity !== undefined
        ? this.store.noteTask(taskId, { log: update.log, activity: update.activity })
        : undefined,
    ]);
    if (!job || !mayKeepRunning(job.status)) {
      await this.work.release(taskId, workerId);
      throw new FarmError(
        "not-yours",
        `job ${lease.jobId} is ${job?.status ?? "gone"}; stop working on task ${taskId}`,
      );
    }
    if (request && !request.lazy && (status === undefined || status === "active")) {
      await this.work.release(taskId, workerId);
      throw new FarmError("not-yours", `the worker is asked to go ${request.status}; stop working on task ${taskId}`);
    }
    if (status === "completed") {
      const res = await this.work.complete(taskId, workerId);
      if (res.completed.length === 0 && res.lost.length > 0) {
        throw new FarmError("not-yours", `task ${taskId} ran out and went to another worker`);
      }
      return;
    }
    if (status === "failed") {
      const w = await this.get(workerId);
      const res = await this.work.fail(taskId, workerId, update.activity || "failed by the worker");
      const hard = (await this.work.lease(taskId))?.state === "failed";
      const outcome = hard
        ? "too many workers failed it, the Manager marks it as failed"
        : "the Manager marks it as soft failure; another worker will try it";
      const blocked = res.blocklisted ? `; worker ${w.nickname} is now blocklisted from job ${lease.jobId}` : "";
      await this.store.noteTask(taskId, {
        log: `${stamp()} Task failed by worker ${w.nickname} (${w.id}); ${outcome}${blocked}\n`,
      });
      return;
    }
    await this.work.extend(taskId, workerId, this.opts.taskTimeoutMs);
  }

  /** The task's log; `not-found` for an unknown task. */
  async taskLog(taskId: string): Promise<string> {
    if (!(await this.work.lease(taskId))) throw notFound(`no task ${taskId}`);
    return this.store.taskLog(taskId);
  }

  /** Every worker, most recently seen first, with its pending request and current task. */
  async list(): Promise<WorkerSummary[]> {
    const sessions = await this.sessions.list("flamenco");
    return Promise.all(sessions.map((s) => this.summarise(workerFromSession(s))));
  }

  /** One worker with its pending request and current task; `not-found` for an unknown worker. */
  async summary(workerId: string): Promise<WorkerSummary> {
    return this.summarise(await this.get(workerId));
  }

  private async summarise(w: Worker): Promise<WorkerSummary> {
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

  /**
   * The liveness sweep: a worker unseen for the worker timeout goes to `error` and its tasks go
   * back in line; it is asked to return to the status it had, so it recovers through the normal
   * handshake when it comes back. One process at a time runs it (a short Redis lock); returns how
   * many workers timed out, or null when another process holds the lock.
   */
  async sweep(now = Date.now()): Promise<number | null> {
    const lockMs = Math.max(50, Math.floor(this.opts.sweepIntervalMs * 0.9));
    if (!(await this.store.tryLock("workers", lockMs))) return null;
    const cutoff = now - this.opts.workerTimeoutMs;
    let timedOut = 0;
    for (const id of await this.sessions.unseenSince(cutoff)) {
      const s = await this.sessions.get(id);
      if (s?.protocol !== "flamenco" || s.lastSeen >= cutoff) continue;
      if (s.status === "offline" || s.status === "error") continue;
      await this.sessions.update(id, { status: "error" });
      if (!(await this.store.request(id))) {
        await this.store.setRequest(id, { status: s.status === "asleep" ? "asleep" : "awake", lazy: false });
      }
      await this.work.releaseAll(id);
      timedOut++;
    }
    await this.sleep.applyAll(new Date(now));
    return timedOut;
  }
}
