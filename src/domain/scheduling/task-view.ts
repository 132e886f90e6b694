import { formatFrameArg } from "../jobs/frame-range.js";
import type { Job } from "../jobs/job.js";
import { finalMoveOf } from "../jobs/move-to-final.js";
import type { Lease } from "./capabilities.js";

/** Flamenco's task priority: the job compiler's default (the job's own priority is apart). */
export const TASK_PRIORITY = 50;

/** Flamenco's TaskStatus values. */
export type TaskStatus =
  | "active"
  | "canceled"
  | "completed"
  | "failed"
  | "queued"
  | "soft-failed"
  | "cancel-requested"
  | "paused";

/**
 * A lease seen as a Flamenco task, named as Flamenco's compiler names its chunks: `render-1-3`,
 * `render-1,3`, `render-7`, and `frames-to-video` for the video task (`preview-video` for a job
 * compiled the Flamenco 3 way, when the job is given). The same lease is one frame
 * for a SheepIt client.
 */
export function taskName(lease: Pick<Lease, "phase" | "frames">, job?: Pick<Job, "type" | "settings">): string {
  if (lease.phase === "video") return job && finalMoveOf(job) ? "preview-video" : "frames-to-video";
  return lease.frames.length > 0 ? `render-${formatFrameArg(lease.frames, "-")}` : "render";
}

/** The lease's state as a Flamenco task status. */
export function taskStatus(lease: Pick<Lease, "state">): TaskStatus {
  switch (lease.state) {
    case "active":
      return "active";
    case "completed":
      return "completed";
    case "failed":
      return "failed";
    case "soft-failed":
    case "lost":
      return "soft-failed";
    case "released":
      return "queued";
    case "canceled":
      return "canceled";
  }
}
