import type { Lease } from "./capabilities.js";

/**
 * A job's task list as Flamenco users rely on it: each piece of work once, with its true state.
 * Frames are cut into leases at claim time, so a retried chunk is a new lease; an older lease
 * whose every frame a newer lease took over (a retry, a requeue, a stall) is history, not a
 * task still `queued`. Of the video task only its newest lease counts. `leases` newest first;
 * the attempt of what is kept already counts every earlier hand-out of its frames.
 */
export function currentTasks(leases: readonly Lease[]): Lease[] {
  const covered = new Set<number>();
  let video = false;
  const out: Lease[] = [];
  for (const l of leases) {
    if (l.phase === "video") {
      if (!video) out.push(l);
      video = true;
      continue;
    }
    if (l.indices.length > 0 && l.indices.every((i) => covered.has(i))) continue;
    for (const i of l.indices) covered.add(i);
    out.push(l);
  }
  return out;
}
