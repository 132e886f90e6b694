import type { Job } from "../jobs/job.js";
import type { JobService } from "../jobs/job-service.js";
import { type TaskCommand, taskCommands } from "../jobs/task-commands.js";
import type { Protocol, SessionStore } from "../sessions/session.js";
import type { WorkerStore } from "../workers/worker-store.js";
import type { Lease } from "./capabilities.js";
import type { WorkService } from "./work-service.js";

/** Who holds or held a task: a session now, or one that ended (its name kept). */
export interface TaskHolder {
  id: string;
  name: string;
  protocol: Protocol;
  /** The worker's address (Flamenco workers only; "" otherwise). */
  address: string;
}

/** One task as the 3.x web UI shows it: the lease, its job, holder, last activity and commands. */
export interface TaskDetails {
  lease: Lease;
  job: Job;
  holder: TaskHolder | null;
  /** The last activity line its worker sent ("" when none). */
  activity: string;
  /** The commands as compiled, before `{blender}` and `{ffmpeg}` are replaced per platform. */
  commands: TaskCommand[];
}

/** The variables as they stand in a compiled task (Flamenco's tasks "before variable replacement"). */
const UNREPLACED = { blender: "{blender}", ffmpeg: "{ffmpeg}" };

/** The commands a task of the job carries, as compiled (no platform's tools filled in). */
export function compiledCommands(job: Job, work: Pick<Lease, "phase" | "frames">): TaskCommand[] {
  try {
    return taskCommands(job, work, UNREPLACED);
  } catch {
    return [];
  }
}

/** Reads a task with what its views need, in a few round trips. */
export class TaskDetailsReader {
  constructor(
    private readonly work: WorkService,
    private readonly jobs: JobService,
    private readonly sessions: SessionStore,
    private readonly notes: Pick<WorkerStore, "taskActivity">,
  ) {}

  /** The task, or null when no task has this id. */
  async get(taskId: string): Promise<TaskDetails | null> {
    const lease = await this.work.lease(taskId);
    if (!lease) return null;
    const [job, session, activity] = await Promise.all([
      this.jobs.get(lease.jobId),
      this.sessions.get(lease.sessionId),
      this.notes.taskActivity(taskId),
    ]);
    let holder: TaskHolder | null = null;
    if (session) {
      holder = { id: session.id, name: session.name, protocol: session.protocol, address: session.attrs.address ?? "" };
    } else {
      const former = await this.sessions.formerHolder(lease.sessionId);
      if (former) holder = { ...former, address: "" };
    }
    return { lease, job, holder, activity, commands: compiledCommands(job, lease) };
  }
}
