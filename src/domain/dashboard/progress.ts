/** One minute of farm activity: frames done per job (`*` for all) and failures (`failed:<job>`). */
export interface ActivityMinute {
  /** Minutes since the epoch. */
  minute: number;
  counts: Record<string, string>;
}

/** Frames done per minute, oldest first, for the throughput chart. */
export function throughput(minutes: ActivityMinute[]): Array<{ minute: string; frames: number }> {
  return minutes.map((m) => ({
    minute: new Date(m.minute * 60_000).toISOString(),
    frames: Number(m.counts["*"] ?? 0),
  }));
}

/** Minutes of recent activity an ETA is measured over. */
export const ETA_WINDOW_MIN = 10;

/**
 * A job's recent frame rate (frames per minute) over the last `ETA_WINDOW_MIN` minutes, or since
 * the job was created when that is sooner (so a job started a minute ago is not thought slow).
 */
export function recentRate(minutes: ActivityMinute[], jobId: string, createdMs: number, now: number): number {
  const recent = minutes.slice(-ETA_WINDOW_MIN);
  const frames = recent.reduce((n, m) => n + Number(m.counts[jobId] ?? 0), 0);
  if (frames === 0) return 0;
  const windowMin = Math.max(0.25, Math.min(ETA_WINDOW_MIN, (now - createdMs) / 60_000));
  return frames / windowMin;
}

/** Seconds until `remaining` frames are done at `ratePerMin`; null when nothing is being done. */
export function etaSeconds(remaining: number, ratePerMin: number): number | null {
  if (remaining <= 0) return 0;
  if (ratePerMin <= 0) return null;
  return Math.round((remaining / ratePerMin) * 60);
}
