export interface SimCredentials {
  id: string;
  secret: string;
}

export interface SimTask {
  uuid: string;
  job: string;
  name: string;
  status: string;
  priority: number;
  job_priority: number;
  job_type: string;
  task_type: string;
  commands: Array<{ name: string; parameters: Record<string, unknown> }>;
}

export interface TaskRecord {
  task: SimTask;
  /** Frames rendered (from `--render-frame`). */
  frames: number[];
  /** Files written. */
  files: string[];
  /** `abandoned`: on a 409; `stopped`: by `stop()` mid-task; `crashed`: by `kill()` or `crashMidTask`. */
  outcome: "completed" | "failed" | "abandoned" | "stopped" | "crashed";
  /** Why the task was abandoned: the 409 answer. */
  reason?: string;
  started: number;
  finished: number;
}

export interface FlamencoWorkerSimOptions {
  url: string;
  nickname?: string;
  platform?: string;
  taskTypes?: string[];
  software?: string;
  /** Credentials from an earlier run: the worker does not register again. */
  credentials?: SimCredentials;
  /** Time one frame (or an echo/sleep/video command) takes; 0 for instant renders. */
  renderDelayMs?: number;
  /** Dies without a word (no more requests, no sign-off) after the first frame of such a task. */
  crashMidTask?: boolean | ((task: SimTask) => boolean);
  /** Reports such tasks as failed instead of running them. */
  failTask?: (task: SimTask) => boolean;
  /** First wait after a 204; it grows by half each time up to `pollMaxMs`. */
  pollMinMs?: number;
  pollMaxMs?: number;
  /** How often an asleep worker asks `GET /state`. */
  asleepPollMs?: number;
  /** Wait after a failed call. */
  retryMs?: number;
  /** Pause after each task (the real worker's rate limiting). */
  taskGapMs?: number;
  /** Write frame files (off for benchmarks that measure the gateway only). */
  writeFiles?: boolean;
  /**
   * Run `blender-render` and `frames-to-video` for real, as the real worker does (the system
   * Blender and ffmpeg; see real-exec.ts), instead of writing placeholder files.
   */
  realExec?: boolean;
}

/** A Flamenco worker's status as the worker itself knows it. */
export type SimStatus = "offline" | "starting" | "awake" | "asleep" | "error" | "shutdown" | "testing";
