import type { Job } from "../domain/jobs/job.js";
import type { Lease } from "../domain/scheduling/capabilities.js";
import { videoActivity, videoRunner } from "../domain/video/video-rule.js";
import type { Farm } from "./farm.js";
import { GATEWAY_SESSION_PREFIX } from "./gateway-video.js";

/** Whether a lease is held (or was) by the gateway's own ffmpeg. */
export function heldByGateway(lease: Pick<Lease, "sessionId">): boolean {
  return lease.sessionId.startsWith(GATEWAY_SESSION_PREFIX);
}

/** What the job's view says about its video: who will make it and why it waits ("" without one). */
export async function jobVideoActivity(farm: Farm, job: Job, newestVideo?: Lease): Promise<string> {
  if (!job.hasVideo) return "";
  const online = job.videoState === "queued" ? await farm.video.ffmpegWorkerOnline() : false;
  const runner = videoRunner({ ffmpegWorkerOnline: online, gatewayFfmpeg: farm.config.GATEWAY_FFMPEG });
  let lease = newestVideo;
  if (!lease && (job.videoState === "active" || job.videoState === "completed")) {
    const [newest] = await farm.scheduler.jobLeases(job.id, { limit: 1 });
    if (newest?.phase === "video") lease = newest;
  }
  return videoActivity(job, runner, lease ? heldByGateway(lease) : false);
}

/**
 * The id the job's video task shows before any client took it: the job id with its hex digits
 * flipped (version and variant kept), so it is a UUID, stable per job, and leads back to the job.
 */
export function waitingVideoTaskId(jobId: string): string {
  return [...jobId.toLowerCase()]
    .map((ch, k) => (k === 14 || k === 19 || ch === "-" ? ch : (Number.parseInt(ch, 16) ^ 0xa).toString(16)))
    .join("");
}

/** The job whose waiting video task has this id (the same flip undone). */
export const jobOfWaitingVideoTask = waitingVideoTaskId;
