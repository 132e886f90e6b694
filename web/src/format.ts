export function duration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${seconds % 60} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

export function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Colours of frame states, shared by the grid, the bars and the legend. */
export const STATE_COLOURS: Record<string, string> = {
  q: "#3a3f4b",
  a: "#e0a526",
  d: "#3fb950",
  r: "#a371f7",
  f: "#f85149",
};
export const STATE_NAMES: Record<string, string> = {
  q: "queued",
  a: "active",
  d: "done",
  r: "retrying",
  f: "failed",
};
