/** The gateway's API as the dashboard uses it: its own documented endpoints, a token in a header. */

const TOKEN_KEY = "bellwether.controlToken";

export function savedToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

export function saveToken(token: string): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** Headers of every call: the control token, when one is kept (never in a URL). */
export function authHeaders(): Record<string, string> {
  const token = savedToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Listeners told when the gateway refuses farm control (403): the page asks for a token. */
export const refusedListeners = new Set<(message: string) => void>();

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders() };
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method: init.method ?? "GET",
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { message?: string };
      if (body.message) message = body.message;
    } catch {
      // not JSON
    }
    if (res.status === 403) for (const l of refusedListeners) l(message);
    throw new ApiError(res.status, message);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A protected image (thumbnails need the token too): fetched with the header, shown as an object URL. */
export async function imageUrl(path: string): Promise<string | null> {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) return null;
  return URL.createObjectURL(await res.blob());
}

// ---- shapes (contracts/dashboard/dashboard.ts and the Flamenco job API) ------------------------

export interface DashboardJob {
  id: string;
  name: string;
  type: string;
  status: string;
  priority: number;
  created: string;
  updated: string;
  reason: string;
  frameCount: number;
  done: number;
  failed: number;
  active: number;
  queued: number;
  framesPerMinute: number;
  etaSeconds: number | null;
  hasVideo: boolean;
  videoState: string;
}

export interface FarmSummary {
  now: string;
  jobs: DashboardJob[];
  throughput: Array<{ minute: string; frames: number }>;
  framesLastHour: number;
}

export interface DashboardClient {
  id: string;
  name: string;
  protocol: "flamenco" | "sheepit";
  status: string;
  lastSeen: string;
  address: string;
  platform: string;
  current: Array<{ taskId: string; jobId: string; jobName: string; frames: number[] }>;
  done: number;
  failed: number;
}

export interface ClientDetail extends DashboardClient {
  created: string;
  failuresByJob: Array<{ jobId: string; jobName: string; failed: number }>;
  blocklistedFrom: Array<{ jobId: string; jobName: string }>;
}

export interface FrameStates {
  jobId: string;
  frameCount: number;
  runs: Array<[number, number]>;
  states: string;
  counts: Record<"q" | "a" | "d" | "r" | "f", number>;
  lastDone: number;
}

export interface FlamencoJob {
  id: string;
  name: string;
  type: string;
  status: string;
  priority: number;
  created: string;
  updated: string;
  activity?: string;
  settings?: Record<string, unknown>;
  metadata?: Record<string, string>;
}

export interface TaskSummary {
  id: string;
  name: string;
  status: string;
  priority: number;
  task_type: string;
  updated: string;
  frames: number[];
  attempt: number;
  worker?: { id: string; name: string; protocol: string };
  activity?: string;
}

export interface JobTasks {
  tasks: TaskSummary[];
  frames: { total: number; completed: number; failed: number };
}

/** Frame number at `index` of a job whose frames are `runs`. */
export function frameAt(runs: Array<[number, number]>, index: number): number {
  let i = index;
  for (const [a, b] of runs) {
    const n = b - a + 1;
    if (i < n) return a + i;
    i -= n;
  }
  return Number.NaN;
}
