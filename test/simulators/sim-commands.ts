import fs from "node:fs/promises";
import path from "node:path";
import { blenderOutputFile, parseRenderFrames } from "./blender-output.js";
import type { FlamencoWorkerSimOptions, SimTask, TaskRecord } from "./flamenco-worker-options.js";
import { globFiles } from "./glob-files.js";
import { execFlamencoCommand } from "./real-exec.js";
import { TINY_PNG } from "./tiny-png.js";

/** What the commands need of the worker that runs them. */
export interface CommandHost {
  readonly opts: Required<Pick<FlamencoWorkerSimOptions, "renderDelayMs" | "writeFiles">> &
    Pick<FlamencoWorkerSimOptions, "realExec">;
  /** Sends a task update; throws when the task must be abandoned. */
  update(task: SimTask, body: Record<string, unknown>): Promise<void>;
  /** Waits, or less when the worker stops. */
  sleep(ms: number): Promise<void>;
  /** Throws when the worker was stopped or killed. */
  checkAlive(): void;
  /** Whether the worker dies during this task (`crashMidTask`). */
  crashes(task: SimTask): boolean;
  /** Kills the worker; answers the error to throw. */
  die(): Error;
}

/**
 * The commands of a task as the worker runs them: `blender-render` writes the files Blender would
 * (a tiny PNG each), `frames-to-video` checks its input glob and writes a placeholder, `echo` and
 * `sleep`; with `realExec` Blender and ffmpeg run for real (real-exec.ts).
 */
export class SimCommands {
  constructor(private readonly host: CommandHost) {}

  /** Runs one command; returns an error message when it fails. */
  async runCommand(task: SimTask, cmd: SimTask["commands"][number], record: TaskRecord): Promise<string | null> {
    const p = cmd.parameters;
    if (this.host.opts.realExec && (cmd.name === "blender-render" || cmd.name === "frames-to-video")) {
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
          await this.host.sleep(this.host.opts.renderDelayMs);
          this.host.checkAlive();
          const file = blenderOutputFile(output, frame, format);
          if (this.host.opts.writeFiles) {
            await fs.mkdir(path.dirname(file), { recursive: true });
            await fs.writeFile(file, TINY_PNG);
          }
          record.frames.push(frame);
          record.files.push(file);
          if (this.host.crashes(task)) throw this.host.die();
          await this.host.update(task, {
            activity: `rendered frame ${frame}`,
            log: `Fra:${frame} | Saved: '${file}'\n`,
          });
        }
        return null;
      }
      case "frames-to-video": {
        const { inputGlob, outputFile } = p;
        if (typeof p.exe !== "string" || typeof inputGlob !== "string" || typeof outputFile !== "string") {
          return "frames-to-video: missing exe, inputGlob or outputFile";
        }
        await this.host.sleep(this.host.opts.renderDelayMs);
        this.host.checkAlive();
        const inputs = this.host.opts.writeFiles ? await globFiles(inputGlob) : ["(not checked)"];
        if (inputs.length === 0) return `${inputGlob}: no such file or directory`;
        if (this.host.opts.writeFiles) {
          await fs.mkdir(path.dirname(outputFile), { recursive: true });
          await fs.writeFile(outputFile, `placeholder video of ${inputs.length} frames at ${String(p.fps)} fps\n`);
        }
        record.files.push(outputFile);
        await this.host.update(task, { log: `ffmpeg: wrote ${outputFile} from ${inputs.length} frames\n` });
        return null;
      }
      case "echo":
        await this.host.update(task, { log: `${String(p.message)}\n` });
        return null;
      case "sleep":
        await this.host.sleep(this.host.opts.renderDelayMs);
        this.host.checkAlive();
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
    this.host.checkAlive();
    const error = await execFlamencoCommand(cmd.name, p, (text) => this.host.update(task, { log: text }));
    this.host.checkAlive();
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
}
