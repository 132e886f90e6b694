import type { Lease } from "./capabilities.js";

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
 * A lease seen as a Flamenco task: `render-<first>-<last>` (or `render-<n>`) for frames,
 * `frames-to-video` for the video task. The same lease is one frame for a SheepIt client.
 */
export function taskName(lease: Pick<Lease, "phase" | "frames">): string {
  if (lease.phase === "video") return "frames-to-video";
  const first = lease.frames[0];
  const last = lease.frames[lease.frames.length - 1];
  if (first === undefined || last === undefined) return "render";
  return first === last ? `render-${first}` : `render-${first}-${last}`;
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
