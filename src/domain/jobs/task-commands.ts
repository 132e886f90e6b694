import path from "node:path";
import { invalid } from "../errors.js";
import { videoArgs, videoFps } from "../video/video-rule.js";
import { FrameList, formatFrameArg } from "./frame-range.js";
import type { Job } from "./job.js";
import { ECHO_SLEEP_TEST, SIMPLE_BLENDER_RENDER } from "./job-types.js";
import { outputDir } from "./output-path.js";

/** One command of a Flamenco task, as the worker runs it. */
export interface TaskCommand {
  name: string;
  parameters: Record<string, unknown>;
}

/** What `{blender}` and `{ffmpeg}` stand for on one worker platform (command lines). */
export interface PlatformTools {
  blender: string;
  ffmpeg: string;
}

/** Tools per platform as Flamenco workers name them: `linux`, `windows`, `darwin`. */
export type ToolsByPlatform = Readonly<Record<string, PlatformTools>>;

/** The tools of `platform` (case-insensitive); Linux's for a platform the farm has none for. */
export function toolsFor(tools: ToolsByPlatform, platform: string): PlatformTools {
  const found = tools[platform.trim().toLowerCase()] ?? tools.linux;
  if (!found) throw new Error("no worker tools configured for linux");
  return found;
}

/**
 * Splits a command line into words: whitespace separates, double or single quotes group
 * (`"C:\Program Files\Blender\blender.exe" --background`); backslashes stay as they are, so
 * Windows paths need no escaping.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | null = null;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** `exe` and `argsBefore` of a command whose executable setting may hold a variable. */
function executable(setting: string, tools: PlatformTools): { exe: string; argsBefore: string[] } {
  const line = setting.replaceAll("{blender}", tools.blender).replaceAll("{ffmpeg}", tools.ffmpeg);
  const [exe = "", ...argsBefore] = splitCommandLine(line);
  return { exe, argsBefore };
}

/** The part of a job a task covers: a run of frames, or the job's video. */
export interface TaskWork {
  phase: "render" | "video";
  frames: readonly number[];
}

/** The video of a job: the file `frames-to-video` writes and the frames it reads. */
export function videoFiles(job: Job): { inputGlob: string; outputFile: string } {
  const s = job.settings;
  const dir = outputDir(String(s.render_output));
  const blend = String(s.filepath ?? job.name);
  const stem = path.basename(blend, path.extname(blend)).replace(".flamenco", "") || job.name;
  const frames = FrameList.parse(String(s.frames), "settings.frames").toString();
  // Only this job's frames: the file-name part before the frame number, glob-escaped (another job
  // may render into the same folder under another prefix).
  const renderOutput = String(s.render_output);
  const name = renderOutput.slice(Math.max(renderOutput.lastIndexOf("/"), renderOutput.lastIndexOf("\\")) + 1);
  const hashes = /#+(?!.*#)/.exec(name);
  const prefix = (hashes ? name.slice(0, hashes.index) : name).replace(/[\\*?[\]{}]/g, "\\$&");
  return {
    inputGlob: path.join(dir, `${prefix}*${String(s.output_file_extension)}`),
    outputFile: path.join(dir, `${stem}-${frames}.mp4`),
  };
}

/**
 * The commands a worker runs for a task, as Flamenco's job compiler writes them, with `{blender}`
 * and `{ffmpeg}` replaced by the worker platform's tools:
 * - `blender-render {exe, argsBefore, blendfile, args: [--render-output, <render_output>,
 *   --render-format, <format>, --render-frame, <frames, ".." for runs>]}` for frames;
 * - `frames-to-video {exe, fps, inputGlob, outputFile, argsBefore, args}` for the job's video;
 * - `echo {message}` + `sleep {duration_in_seconds}` for `echo-sleep-test`.
 */
export function taskCommands(job: Job, work: TaskWork, tools: PlatformTools): TaskCommand[] {
  const s = job.settings;
  if (job.type === SIMPLE_BLENDER_RENDER && work.phase === "render") {
    return [
      {
        name: "blender-render",
        parameters: {
          ...executable(String(s.blender_cmd ?? "{blender}"), tools),
          blendfile: String(s.filepath),
          args: [
            "--render-output",
            String(s.render_output),
            "--render-format",
            String(s.format),
            "--render-frame",
            formatFrameArg(work.frames),
          ],
        },
      },
    ];
  }
  if (job.type === SIMPLE_BLENDER_RENDER && work.phase === "video") {
    const fps = videoFps(s) ?? 24;
    const { argsBefore, args } = videoArgs(fps);
    const exe = executable("{ffmpeg}", tools);
    return [
      {
        name: "frames-to-video",
        parameters: {
          exe: exe.exe,
          fps,
          ...videoFiles(job),
          argsBefore: [...exe.argsBefore, ...argsBefore],
          args,
        },
      },
    ];
  }
  if (job.type === ECHO_SLEEP_TEST) {
    return [
      { name: "echo", parameters: { message: String(s.message ?? "") } },
      { name: "sleep", parameters: { duration_in_seconds: Number(s.sleep_duration_seconds ?? 1) } },
    ];
  }
  throw invalid("type", `job ${job.id} has type "${job.type}", which has no ${work.phase} commands`);
}
