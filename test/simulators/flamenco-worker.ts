import { randomBytes } from "node:crypto";
import os from "node:os";
import type {
  FlamencoWorkerSimOptions,
  SimCredentials,
  SimStatus,
  SimTask,
  TaskRecord,
} from "./flamenco-worker-options.js";
import { SimCommands } from "./sim-commands.js";

export { blenderOutputFile, parseRenderFrames } from "./blender-output.js";
export type { FlamencoWorkerSimOptions, SimCredentials, SimTask, TaskRecord } from "./flamenco-worker-options.js";
export { TINY_PNG } from "./tiny-png.js";

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
 *
 * Beside it: its options and records (flamenco-worker-options.ts), the commands of a task
 * (sim-commands.ts), Blender's output names (blender-output.ts).
 */

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
  private readonly commands: SimCommands;

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
    this.commands = new SimCommands({
      opts: this.opts,
      update: (task, body) => this.update(task, body),
      sleep: (ms) => this.sleep(ms),
      checkAlive: () => this.checkAlive(),
      crashes: (task) => this.crashes(task),
      die: () => this.die(),
    });
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
        const error = await this.commands.runCommand(task, cmd, record);
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
