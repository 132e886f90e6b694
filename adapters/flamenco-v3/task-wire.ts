import type { TaskV3 } from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { jobOfWaitingVideoTask, jobVideoActivity, waitingVideoTaskId } from "../../src/app/video-view.js";
import type { Job } from "../../src/domain/jobs/job.js";
import type { Lease } from "../../src/domain/scheduling/capabilities.js";
import { compiledCommands, type TaskDetails } from "../../src/domain/scheduling/task-details.js";
import { TASK_PRIORITY, taskName, taskStatus } from "../../src/domain/scheduling/task-view.js";
import { sessionIdAsUuid } from "./wire.js";

/**
 * A task as Flamenco 3's `Task`: its commands as compiled (`{blender}`, `{ffmpeg}` unreplaced, as
 * the 3.x Manager keeps them), the last activity its worker sent (for a video task without one,
 * what the job's view says about its video), who holds or held it.
 */
export async function taskToWireV3(farm: Farm, d: TaskDetails): Promise<TaskV3> {
  const { lease, job, holder } = d;
  const activity = d.activity || (lease.phase === "video" ? await jobVideoActivity(farm, job, lease) : "");
  return {
    id: lease.id,
    created: lease.created,
    updated: lease.updated,
    job_id: lease.jobId,
    name: taskName(lease, job),
    status: taskStatus(lease),
    priority: TASK_PRIORITY,
    task_type: lease.taskType,
    activity,
    commands: d.commands,
    last_touched: lease.updated,
    ...(holder ? { worker: { id: sessionIdAsUuid(holder.id), name: holder.name, address: holder.address } } : {}),
  };
}

/** A job's video task before any client took it (Flamenco lists every task), or null. */
export async function waitingVideoTaskV3(farm: Farm, taskId: string): Promise<TaskV3 | null> {
  const job = await farm.jobStore.get(jobOfWaitingVideoTask(taskId));
  if (!job?.hasVideo || waitingVideoTaskId(job.id) !== taskId) return null;
  const [newest] = await farm.scheduler.jobLeases(job.id, { limit: 1 });
  if (newest?.phase === "video") return null;
  const work = { phase: "video" as const, frames: [] };
  return {
    id: taskId,
    created: job.created,
    updated: job.updated,
    job_id: job.id,
    name: taskName(work, job),
    status: "queued",
    priority: TASK_PRIORITY,
    task_type: "ffmpeg",
    activity: await jobVideoActivity(farm, job),
    commands: compiledCommands(job, work),
  };
}

/** A job's tasks as `TaskSummary` entries: its leases, and its video task before anyone took it. */
export function taskSummariesV3(job: Job, leases: readonly Lease[], firstPage: boolean) {
  const tasks = leases.map((l) => ({
    id: l.id,
    name: taskName(l, job),
    status: taskStatus(l),
    priority: TASK_PRIORITY,
    task_type: l.taskType,
    updated: l.updated,
  }));
  if (job.hasVideo && firstPage && !leases.some((l) => l.phase === "video")) {
    tasks.unshift({
      id: waitingVideoTaskId(job.id),
      name: taskName({ phase: "video", frames: [] }, job),
      status: "queued",
      priority: TASK_PRIORITY,
      task_type: "ffmpeg",
      updated: job.updated,
    });
  }
  return tasks;
}
