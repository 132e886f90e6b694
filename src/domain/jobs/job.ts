/** Flamenco's `JobStatus` values: the status every job of the farm has, whoever renders it. */
export const jobStatuses = [
  "active",
  "canceled",
  "completed",
  "construction-failed",
  "failed",
  "paused",
  "queued",
  "archived",
  "archiving",
  "cancel-requested",
  "fail-requested",
  "requeued",
  "under-construction",
  "waiting-for-files",
] as const;
export type JobStatus = (typeof jobStatuses)[number];

/** Statuses in which a job's frames are handed out. */
export const runnableStatuses: ReadonlySet<JobStatus> = new Set<JobStatus>(["queued", "active", "requeued"]);
/** Statuses a job does not leave by itself. */
export const finalStatuses: ReadonlySet<JobStatus> = new Set<JobStatus>(["completed", "canceled", "failed"]);

/** What the submitter sent, after validation. */
export interface JobDefinition {
  name: string;
  type: string;
  priority: number;
  settings: Record<string, unknown>;
  metadata: Record<string, string>;
}

/** What a job has learnt about the clients it needs (from out-of-memory and time-limit errors). */
export interface JobNeeds {
  /** `cpu` or `gpu` when the job can only use one device; `any` otherwise. */
  device: "any" | "cpu" | "gpu";
  /** Renderer memory in KB a client must allow (0: no known need). */
  ramKb: number;
  /** GPU memory in bytes a GPU client must have (0: no known need). */
  vramBytes: number;
  /** Seconds a frame is known to take at least (0: unknown); clients with a lower limit are skipped. */
  renderSeconds: number;
}

export interface Job extends JobDefinition {
  id: string;
  status: JobStatus;
  created: string;
  updated: string;
  /** Why the job last changed status by an operator or a rule, when known. */
  reason: string;
  frameCount: number;
  completedFrames: number;
  failedFrames: number;
  chunkSize: number;
  /** `blender` for renders, `misc` for test jobs. */
  taskType: string;
  hasVideo: boolean;
  /** State of the video task: none yet, queued, active, completed, failed. */
  videoState: "" | "queued" | "active" | "completed" | "failed";
  /** The numeric id SheepIt clients see (20 or more; lower ids are test frames to them). */
  sheepitId: number;
  needs: JobNeeds;
}

/** Counters the roll-up reads. */
export interface JobProgress {
  status: JobStatus;
  frameCount: number;
  completedFrames: number;
  failedFrames: number;
  hasVideo: boolean;
  videoState: Job["videoState"];
}

/**
 * Flamenco's roll-up of a job's status from its tasks (see flamenco-manager-behaviour.md):
 * work starting makes a queued job active; 10 % or more failed frames fail it; all frames (and
 * the video task, when there is one) completed complete it. Returns the status the job should
 * have, which may be its current one.
 */
export function rollUpStatus(p: JobProgress, failPercent: number, workStarted = false): JobStatus {
  if (finalStatuses.has(p.status) || p.status === "paused" || p.status === "cancel-requested") return p.status;
  if (p.frameCount > 0 && (p.failedFrames * 100) / p.frameCount >= failPercent && p.failedFrames > 0) return "failed";
  if (p.videoState === "failed") return "failed";
  const framesDone = p.completedFrames >= p.frameCount;
  if (framesDone && (!p.hasVideo || p.videoState === "completed")) return "completed";
  if (workStarted && (p.status === "queued" || p.status === "requeued")) return "active";
  return p.status;
}
