import { FarmError } from "../errors.js";
import type { Job } from "../jobs/job.js";
import type { JobService } from "../jobs/job-service.js";
import { type ToolsByPlatform, taskCommands, toolsFor } from "../jobs/task-commands.js";
import type { Lease } from "../scheduling/capabilities.js";
import { TASK_PRIORITY, taskName } from "../scheduling/task-view.js";
import type { WorkService } from "../scheduling/work-service.js";
import type { Session } from "../sessions/session.js";
import { mayKeepRunning, noJob } from "./may-keep-running.js";
import type { SleepSchedules } from "./sleep-schedules.js";
import { stamp } from "./task-log.js";
import type { AssignedTask, Worker } from "./worker.js";
import { workerOf } from "./worker-lookup.js";
import type { WorkerStore } from "./worker-store.js";

/** `POST /task`: the task a worker holds, else a new claim of frames for it (a lease of the scheduling core). */
export class NextTask {
  constructor(
    private readonly store: WorkerStore,
    private readonly work: WorkService,
    private readonly jobs: JobService,
    private readonly sleep: SleepSchedules,
    private readonly opts: {
      /** Lease of a task; every update from its worker extends it (TASK_TIMEOUT). */
      taskTimeoutMs: number;
      /** `{blender}` and `{ffmpeg}` per worker platform. */
      tools: ToolsByPlatform;
    },
    /** The worker; `not-found` for an unknown one. */
    private readonly worker: (id: string) => Promise<Worker>,
  ) {}

  /**
   * A task for the worker: the one it holds, else a new claim of up to its job's chunk size of
   * consecutive frames (or a video task), null when nothing fits. Throws `state-change-pending`
   * (with `statusRequested`) when the worker must change status first, `wrong-state` when it is
   * not awake. `seen`: the worker's session as read by this request's authentication (with its
   * touch), else it is read here.
   */
  async nextTask(workerId: string, seen?: Session): Promise<AssignedTask | null> {
    const [w, stored, held, schedule] = await Promise.all([
      seen && seen.id === workerId ? workerOf(workerId, seen) : this.worker(workerId),
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
        log: `${stamp()} Task assigned to worker ${w.nickname} (${w.id})\n`,
      });
      if (!got) return null;
      if (!(await this.jobs.pathsStillSafe(got.job))) got = null;
    }
    if (!got) return null;
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
}
