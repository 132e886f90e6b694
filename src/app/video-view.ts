import { createHash } from "node:crypto";
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
 * The id the job's video task shows before any client took it: stable per job (a UUID made from
 * the job id), so the task list names the same waiting task on every read.
 */
export function waitingVideoTaskId(jobId: string): string {
  const h = createHash("sha1").update(`${jobId}:frames-to-video`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}
