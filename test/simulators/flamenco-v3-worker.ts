import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { blenderOutputFile, parseRenderFrames, type SimTask, TINY_PNG } from "./flamenco-worker.js";

/**
 * A Flamenco 3.x worker as it speaks to `/api/v3` (flamenco-v3-behaviour.md), driven task by task
 * so a test decides when it works: registers with `name`, signs on, says `awake`; `runTask()` asks
 * `POST /api/v3/worker/task`, reports `active`, and per frame of a `blender-render` asks
 * `may-i-run` first (aborting the task on `false`, as the real worker kills Blender), writes the
 * frame Blender would write (a tiny PNG), sends it to `output-produced` (a 429 is fine: it
 * throttles), and reports `completed`. `frames-to-video` writes a placeholder at `outputFile`.
 */
export interface V3TaskRecord {
  task: SimTask;
  outcome: "completed" | "aborted";
  /** The `reason` of the `may-i-run` answer that aborted it. */
  reason?: string;
  frames: number[];
  /** Status codes of the `output-produced` calls. */
  previews: number[];
}

export class FlamencoV3WorkerSim {
  readonly url: string;
  readonly name: string;
  readonly secret = randomBytes(32).toString("hex");
  id = "";
  readonly tasks: V3TaskRecord[] = [];
  /** Called before each frame is rendered (tests pause or cancel here). */
  beforeFrame: ((task: SimTask, frame: number) => Promise<void>) | undefined;

  constructor(
    url: string,
    readonly opts: { name?: string; platform?: string; taskTypes?: string[] } = {},
  ) {
    this.url = url.replace(/\/+$/, "");
    this.name = opts.name ?? `v3-sim-${randomBytes(3).toString("hex")}`;
  }

  async call(method: string, route: string, body?: unknown, headers: Record<string, string> = {}) {
    const auth: Record<string, string> = this.id
      ? { authorization: `Basic ${Buffer.from(`${this.id}:${this.secret}`).toString("base64")}` }
      : {};
    const isJson = body !== undefined && !(body instanceof Uint8Array);
    const res = await fetch(this.url + route, {
      method,
      headers: { ...auth, ...(isJson ? { "content-type": "application/json" } : {}), ...headers },
      ...(body === undefined ? {} : { body: isJson ? JSON.stringify(body) : (body as Uint8Array) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, text };
  }

  /** register-worker (v3 `name`), sign-on, state-changed awake. */
  async start(): Promise<void> {
    const types = this.opts.taskTypes ?? ["blender", "ffmpeg", "file-management", "misc"];
    const reg = await this.call("POST", "/api/v3/worker/register-worker", {
      secret: this.secret,
      platform: this.opts.platform ?? "linux",
      supported_task_types: types,
      name: this.name,
    });
    if (reg.status !== 200) throw new Error(`v3 registration failed: ${reg.status} ${reg.text}`);
    this.id = (reg.body as { uuid: string }).uuid;
    const on = await this.call("POST", "/api/v3/worker/sign-on", {
      name: this.name,
      supported_task_types: types,
      software_version: "3.0-beta1-sim",
    });
    if (on.status !== 200) throw new Error(`v3 sign-on failed: ${on.status} ${on.text}`);
    const changed = await this.call("POST", "/api/v3/worker/state-changed", { status: "awake" });
    if (changed.status !== 204) throw new Error(`v3 state-changed failed: ${changed.status} ${changed.text}`);
  }

  /** One task, start to end; null when the Manager has none (204). */
  async runTask(): Promise<V3TaskRecord | null> {
    const got = await this.call("POST", "/api/v3/worker/task");
    if (got.status === 204) return null;
    if (got.status !== 200) throw new Error(`v3 task request failed: ${got.status} ${got.text}`);
    const task = got.body as SimTask;
    const rec: V3TaskRecord = { task, outcome: "completed", frames: [], previews: [] };
    this.tasks.push(rec);
    await this.update(task.uuid, { taskStatus: "active", activity: "Started", log: "starting task\n" });
    for (const cmd of task.commands) {
      const p = cmd.parameters;
      if (cmd.name === "blender-render") {
        const args = p.args as string[];
        const out = String(args[args.indexOf("--render-output") + 1]);
        const format = String(args[args.indexOf("--render-format") + 1]);
        for (const frame of parseRenderFrames(String(args[args.indexOf("--render-frame") + 1]))) {
          await this.beforeFrame?.(task, frame);
          const may = await this.call("GET", `/api/v3/worker/task/${task.uuid}/may-i-run`);
          const verdict = may.body as { mayKeepRunning: boolean; reason: string };
          if (may.status !== 200 || !verdict.mayKeepRunning) {
            rec.outcome = "aborted";
            rec.reason = verdict?.reason ?? may.text;
            return rec;
          }
          const file = blenderOutputFile(out, frame, format);
          await fs.mkdir(path.dirname(file), { recursive: true });
          await fs.writeFile(file, TINY_PNG);
          rec.frames.push(frame);
          const preview = await this.call("POST", `/api/v3/worker/task/${task.uuid}/output-produced`, TINY_PNG, {
            "content-type": "image/png",
          });
          rec.previews.push(preview.status);
        }
      } else if (cmd.name === "frames-to-video") {
        await fs.mkdir(path.dirname(String(p.outputFile)), { recursive: true });
        await fs.writeFile(String(p.outputFile), "not really a video\n");
      }
    }
    await this.update(task.uuid, { taskStatus: "completed", log: "task done\n" });
    return rec;
  }

  private async update(taskId: string, body: Record<string, unknown>) {
    const a = await this.call("POST", `/api/v3/worker/task/${taskId}`, body);
    if (a.status !== 204) throw new Error(`v3 task update failed: ${a.status} ${a.text}`);
  }

  async signOff(): Promise<void> {
    await this.call("POST", "/api/v3/worker/sign-off");
  }
}
