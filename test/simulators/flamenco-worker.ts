import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execFlamencoCommand } from "./real-exec.js";

/**
 * A Flamenco worker as the real one (Flamenco 3, early 2022) behaves towards its Manager, for
 * end-to-end tests and benchmarks:
 * - registers once with its own random secret and keeps the credentials (pass them back in to
 *   "restart" the same worker), signs on and follows the answer (`awake`, or a requested state),
 *   acknowledging every state change with `state-changed`;
 * - awake: asks for a task; 204 → asks again after a back-off that grows while the farm is idle;
 *   423 → goes to the requested state; other failures → retries later;
 * - asleep: polls `GET /state` and follows a request;
 * - runs a task: `active` + "Started", then per command an activity and log chunks, then
 *   `completed` (or `failed`); a 409 on any update makes it abandon the task at once;
 * - `blender-render` writes the files Blender would write for `--render-output`, `--render-format`
 *   and `--render-frame` (a tiny valid PNG each), named by Blender's rules implemented here on
 *   purpose, independently of the gateway; `frames-to-video` checks that its input glob matches
 *   frames and writes a small placeholder at `outputFile`;
 * - `stop()` (and SIGINT, with `handleSigint`) signs off; `kill()` and `crashMidTask` stop dead
 *   without a word, as a crashed machine does.
 */

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

type SimStatus = "offline" | "starting" | "awake" | "asleep" | "error" | "shutdown" | "testing";

/** A 1×1 grey PNG. */
export const TINY_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==",
  "base64",
);

/** File extensions Blender gives each `--render-format`. */
const BLENDER_EXTENSIONS: Record<string, string> = {
  PNG: ".png",
  JPEG: ".jpg",
  BMP: ".bmp",
  TGA: ".tga",
  TARGA: ".tga",
  RAWTGA: ".tga",
  TARGA_RAW: ".tga",
  IRIS: ".rgb",
  JP2: ".jp2",
  JPEG2000: ".jp2",
  TIFF: ".tif",
  EXR: ".exr",
  OPEN_EXR: ".exr",
  OPEN_EXR_MULTILAYER: ".exr",
  MULTILAYER: ".exr",
  HDR: ".hdr",
  CINEON: ".cin",
  DPX: ".dpx",
  WEBP: ".webp",
};

/** printf's `%.*d`: at least `digits` digits, the sign in front. */
function printfPrecision(n: number, digits: number): string {
  const body = Math.abs(n).toString();
  return (n < 0 ? "-" : "") + "0".repeat(Math.max(0, digits - body.length)) + body;
}

/**
 * The file Blender writes for one frame (BLI_path_frame + the format's extension): `#` runs count
 * only in the file name (a `/` or `\` after them voids them); the last run becomes the frame
 * number with at least that many digits; a name without `#` gets `####` appended; the extension
 * is added unless the name already ends with it.
 */
export function blenderOutputFile(renderOutput: string, frame: number, format: string): string {
  let start = -1;
  let end = -1;
  for (let i = 0; i < renderOutput.length; i++) {
    const ch = renderOutput[i];
    if (ch === "/" || ch === "\\") {
      start = -1;
      end = -1;
    } else if (ch === "#") {
      start = i;
      end = i;
      while (renderOutput[end] === "#") end++;
      i = end - 1;
    }
  }
  const named =
    start < 0
      ? `${renderOutput}${printfPrecision(frame, 4)}`
      : renderOutput.slice(0, start) + printfPrecision(frame, end - start) + renderOutput.slice(end);
  const ext = BLENDER_EXTENSIONS[format.toUpperCase()] ?? "";
  return ext && !named.toLowerCase().endsWith(ext) ? named + ext : named;
}

/** Blender's `--render-frame`: comma-separated frames and `A..B` ranges. */
export function parseRenderFrames(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(",")) {
    const m = /^\s*(-?\d+)(?:\.\.(-?\d+))?\s*$/.exec(part);
    if (!m) throw new Error(`bad --render-frame "${spec}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let f = a; f <= b; f++) out.push(f);
  }
  return out;
}

/** Files matching a `dir/*.ext`-style glob (only `*` and `?` in the last part). */
async function globFiles(pattern: string): Promise<string[]> {
  const dir = path.dirname(pattern);
  const re = new RegExp(
    `^${path
      .basename(pattern)
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => re.test(n)).map((n) => path.join(dir, n));
}

class Abandon extends Error {}
class Crash extends Error {}

export class FlamencoWorkerSim {
  readonly url: string;
  readonly nickname: string;
  credentials: SimCredentials | undefined;
  status: SimStatus = "offline";
  readonly tasks: TaskRecord[] = [];
  /** Latency of each `POST /api/worker/task` that got a task (200), in ms. */
  readonly taskRequestMs: number[] = [];
  /** Every answer the worker got: `METHOD path status`. */
  readonly answers: string[] = [];
  /** Every state it went to, in order. */
  readonly states: SimStatus[] = [];
  private readonly opts: Required<
    Omit<FlamencoWorkerSimOptions, "credentials" | "crashMidTask" | "failTask" | "realExec">
  > &
    Pick<FlamencoWorkerSimOptions, "crashMidTask" | "failTask" | "realExec">;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private crashed = false;

  constructor(options: FlamencoWorkerSimOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.nickname = options.nickname ?? `${os.hostname()}-sim-${randomBytes(3).toString("hex")}`;
    this.credentials = options.credentials;
    this.opts = {
      url: this.url,
      nickname: this.nickname,
      platform: options.platform ?? "linux",
      taskTypes: options.taskTypes ?? ["blender", "ffmpeg", "file-management", "misc"],
      software: options.software ?? "3.0-bellwether-sim",
      renderDelayMs: options.renderDelayMs ?? 0,
      crashMidTask: options.crashMidTask,
      failTask: options.failTask,
      pollMinMs: options.pollMinMs ?? 2000,
      pollMaxMs: options.pollMaxMs ?? 30_000,
      asleepPollMs: options.asleepPollMs ?? 5000,
      retryMs: options.retryMs ?? 10_000,
      taskGapMs: options.taskGapMs ?? 0,
      writeFiles: options.writeFiles ?? true,
      realExec: options.realExec,
    };
  }

  get running(): boolean {
    return this.loop !== undefined && !this.abort.signal.aborted;
  }

  /** Registers (once), signs on and starts working in the background. */
  async start(): Promise<void> {
    if (this.loop) throw new Error("already started");
    this.abort = new AbortController();
    this.crashed = false;
    if (!this.credentials) {
      const secret = randomBytes(32).toString("hex");
      const res = await this.call("POST", "/api/worker/register-worker", {
        secret,
        platform: this.opts.platform,
        supported_task_types: this.opts.taskTypes,
        nickname: this.nickname,
      });
      if (res.status !== 200) throw new Error(`registration failed: ${res.status} ${JSON.stringify(res.body)}`);
      this.credentials = { id: (res.body as { uuid: string }).uuid, secret };
    }
    this.setStatus("starting");
    const res = await this.call("POST", "/api/worker/sign-on", {
      nickname: this.nickname,
      supported_task_types: this.opts.taskTypes,
      software_version: this.opts.software,
    });
    if (res.status !== 200) throw new Error(`sign-on failed: ${res.status} ${JSON.stringify(res.body)}`);
    const requested = (res.body as { status_requested: SimStatus }).status_requested;
    this.loop = (async () => {
      await this.changeState(requested);
      await this.run();
    })().catch((err) => {
      if (!this.abort.signal.aborted) throw err;
    });
  }

  /** Stops after the current request and signs off (what the worker does on SIGINT). */
  async stop(): Promise<void> {
    const loop = this.loop;
    this.abort.abort();
    await loop?.catch(() => undefined);
    this.loop = undefined;
    if (!this.crashed && this.status !== "offline") await this.signOff();
  }

  /** Dies on the spot: no more requests, no sign-off. */
  kill(): void {
    this.crashed = true;
    this.abort.abort();
  }

  /** Resolves when the worker's loop has ended (stopped, killed, or told to go offline). */
  async finished(): Promise<void> {
    await this.loop;
  }

  /** Signs off on SIGINT; returns the function that removes the handler. */
  handleSigint(): () => void {
    const handler = () => void this.stop();
    process.once("SIGINT", handler);
    return () => process.off("SIGINT", handler);
  }

  private setStatus(s: SimStatus): void {
    this.status = s;
    this.states.push(s);
  }

  private async signOff(): Promise<void> {
    await this.call("POST", "/api/worker/sign-off", undefined, { signal: AbortSignal.timeout(10_000) }).catch(
      () => undefined,
    );
    this.setStatus("offline");
  }

  /** Goes to a state the Manager asked for and acknowledges it. */
  private async changeState(requested: SimStatus): Promise<void> {
    if (requested === "offline" || requested === "shutdown") {
      await this.signOff();
      this.abort.abort();
      return;
    }
    this.setStatus(requested);
    await this.callRetrying("POST", "/api/worker/state-changed", { status: requested });
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      if (this.status === "awake") {
        const task = await this.fetchTask();
        if (task) {
          await this.runTask(task);
          await this.sleep(this.opts.taskGapMs);
        }
      } else {
        await this.sleep(this.opts.asleepPollMs);
        if (this.abort.signal.aborted) return;
        const res = await this.call("GET", "/api/worker/state").catch(() => null);
        if (res?.status === 200) await this.changeState((res.body as { status_requested: SimStatus }).status_requested);
      }
    }
  }

  /** Asks for a task until it gets one (null when it must change state or stop). */
  private async fetchTask(): Promise<SimTask | null> {
    let wait = this.opts.pollMinMs;
    while (!this.abort.signal.aborted) {
      const started = performance.now();
      const res = await this.call("POST", "/api/worker/task").catch(() => null);
      if (res?.status === 200) {
        this.taskRequestMs.push(performance.now() - started);
        return res.body as SimTask;
      }
      if (res?.status === 423) {
        await this.changeState((res.body as { status_requested: SimStatus }).status_requested);
        return null;
      }
      if (res?.status === 204) {
        await this.sleep(wait);
        wait = Math.min(this.opts.pollMaxMs, Math.ceil(wait * 1.5));
      } else {
        await this.sleep(this.opts.retryMs);
      }
    }
    return null;
  }

  private async runTask(task: SimTask): Promise<void> {
    const record: TaskRecord = { task, frames: [], files: [], outcome: "completed", started: Date.now(), finished: 0 };
    this.tasks.push(record);
    try {
      await this.update(task, {
        taskStatus: "active",
        activity: "Started",
        log: `task ${task.uuid} started by ${this.nickname}\n`,
      });
      if (this.opts.failTask?.(task)) {
        record.outcome = "failed";
        await this.update(task, {
          taskStatus: "failed",
          activity: "simulated failure",
          log: "Error: simulated failure\n",
        });
        return;
      }
      for (const cmd of task.commands) {
        await this.update(task, {
          activity: `running ${cmd.name}`,
          log: `going to run: ${cmd.name} ${JSON.stringify(cmd.parameters)}\n`,
        });
        const error = await this.runCommand(task, cmd, record);
        if (error) {
          record.outcome = "failed";
          await this.update(task, { taskStatus: "failed", activity: error, log: `Error: ${error}\n` });
          return;
        }
      }
      await this.update(task, { taskStatus: "completed", activity: "Task completed", log: "task completed\n" });
    } catch (err) {
      if (err instanceof Abandon) {
        record.outcome = "abandoned";
        record.reason = err.message;
      } else if (err instanceof Crash || this.abort.signal.aborted)
        record.outcome = this.crashed ? "crashed" : "stopped";
      else throw err;
    } finally {
      record.finished = Date.now();
    }
  }

  /** Runs one command; returns an error message when it fails. */
  private async runCommand(
    task: SimTask,
    cmd: SimTask["commands"][number],
    record: TaskRecord,
  ): Promise<string | null> {
    const p = cmd.parameters;
    if (this.opts.realExec && (cmd.name === "blender-render" || cmd.name === "frames-to-video")) {
      return this.runForReal(task, cmd, record);
    }
    switch (cmd.name) {
      case "blender-render": {
        const args = Array.isArray(p.args) ? p.args.map(String) : [];
        const arg = (flag: string) => {
          const i = args.indexOf(flag);
          return i >= 0 ? args[i + 1] : undefined;
        };
        const output = arg("--render-output");
        const format = arg("--render-format") ?? "PNG";
        const frameSpec = arg("--render-frame");
        if (typeof p.exe !== "string" || !p.exe || typeof p.blendfile !== "string" || !output || !frameSpec) {
          return `blender-render: missing exe, blendfile, --render-output or --render-frame`;
        }
        for (const frame of parseRenderFrames(frameSpec)) {
          await this.sleep(this.opts.renderDelayMs);
          this.checkAlive();
          const file = blenderOutputFile(output, frame, format);
          if (this.opts.writeFiles) {
            await fs.mkdir(path.dirname(file), { recursive: true });
            await fs.writeFile(file, TINY_PNG);
          }
          record.frames.push(frame);
          record.files.push(file);
          if (this.crashes(task)) throw this.die();
          await this.update(task, { activity: `rendered frame ${frame}`, log: `Fra:${frame} | Saved: '${file}'\n` });
        }
        return null;
      }
      case "frames-to-video": {
        const { inputGlob, outputFile } = p;
        if (typeof p.exe !== "string" || typeof inputGlob !== "string" || typeof outputFile !== "string") {
          return "frames-to-video: missing exe, inputGlob or outputFile";
        }
        await this.sleep(this.opts.renderDelayMs);
        this.checkAlive();
        const inputs = this.opts.writeFiles ? await globFiles(inputGlob) : ["(not checked)"];
        if (inputs.length === 0) return `${inputGlob}: no such file or directory`;
        if (this.opts.writeFiles) {
          await fs.mkdir(path.dirname(outputFile), { recursive: true });
          await fs.writeFile(outputFile, `placeholder video of ${inputs.length} frames at ${String(p.fps)} fps\n`);
        }
        record.files.push(outputFile);
        await this.update(task, { log: `ffmpeg: wrote ${outputFile} from ${inputs.length} frames\n` });
        return null;
      }
      case "echo":
        await this.update(task, { log: `${String(p.message)}\n` });
        return null;
      case "sleep":
        await this.sleep(this.opts.renderDelayMs);
        this.checkAlive();
        return null;
      default:
        return `unknown command ${cmd.name}`;
    }
  }

  /** `realExec`: runs the command as the real worker does, and records what it rendered. */
  private async runForReal(
    task: SimTask,
    cmd: SimTask["commands"][number],
    record: TaskRecord,
  ): Promise<string | null> {
    const p = cmd.parameters;
    this.checkAlive();
    const error = await execFlamencoCommand(cmd.name, p, (text) => this.update(task, { log: text }));
    this.checkAlive();
    if (error) return error;
    if (cmd.name === "frames-to-video") {
      record.files.push(String(p.outputFile));
      return null;
    }
    const args = Array.isArray(p.args) ? p.args.map(String) : [];
    const arg = (flag: string) => args[args.indexOf(flag) + 1] ?? "";
    for (const frame of parseRenderFrames(arg("--render-frame"))) {
      record.frames.push(frame);
      record.files.push(blenderOutputFile(arg("--render-output"), frame, arg("--render-format") || "PNG"));
    }
    return null;
  }

  private crashes(task: SimTask): boolean {
    const c = this.opts.crashMidTask;
    return typeof c === "function" ? c(task) : c === true;
  }

  private die(): Crash {
    this.kill();
    return new Crash("crashed");
  }

  private checkAlive(): void {
    if (this.abort.signal.aborted) throw new Crash("stopped");
  }

  /** Sends a task update; 409 → abandon the task. Retries a few times when the Manager is unreachable. */
  private async update(task: SimTask, body: Record<string, unknown>): Promise<void> {
    const res = await this.callRetrying("POST", `/api/worker/task/${task.uuid}`, body);
    if (res?.status === 409) throw new Abandon(`task ${task.uuid} abandoned: ${JSON.stringify(res.body)}`);
  }

  private async callRetrying(method: string, route: string, body?: unknown) {
    for (let attempt = 0; ; attempt++) {
      this.checkAlive();
      const res = await this.call(method, route, body).catch(() => null);
      if (res && res.status < 500) return res;
      if (attempt >= 3) return res;
      await this.sleep(this.opts.retryMs);
    }
  }

  private async call(
    method: string,
    route: string,
    body?: unknown,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = {};
    if (this.credentials) {
      headers.authorization = `Basic ${Buffer.from(`${this.credentials.id}:${this.credentials.secret}`).toString("base64")}`;
    }
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(this.url + route, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: opts.signal ?? this.abort.signal,
    });
    const text = await res.text();
    this.answers.push(`${method} ${route} ${res.status}`);
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // plain text answer
    }
    return { status: res.status, body: parsed };
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const signal = this.abort.signal;
      function done() {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
