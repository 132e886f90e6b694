import { invalid } from "../errors.js";
import { wantsVideo } from "../video/video-rule.js";
import { FrameList } from "./frame-range.js";

/** A setting a job type declares, as Flamenco's `AvailableJobSetting` describes it. */
export interface JobSettingSpec {
  key: string;
  type: "string" | "int32" | "float" | "bool";
  subtype?: "file_path" | "dir_path" | "file_name" | "hashed_file_path";
  choices?: string[];
  description?: string;
  default?: unknown;
  visible?: boolean;
  required?: boolean;
  editable?: boolean;
}

export interface JobTypeSpec {
  name: string;
  label: string;
  settings: JobSettingSpec[];
}

export const SIMPLE_BLENDER_RENDER = "simple-blender-render";
export const ECHO_SLEEP_TEST = "echo-sleep-test";

/** The job types this farm compiles, with the settings the real Manager of that era offered. */
export const jobTypes: readonly JobTypeSpec[] = [
  {
    name: SIMPLE_BLENDER_RENDER,
    label: "Simple Blender Render",
    settings: [
      { key: "blender_cmd", type: "string", default: "{blender}", visible: false },
      {
        key: "filepath",
        type: "string",
        subtype: "file_path",
        required: true,
        visible: false,
        description: "Blend file to render",
      },
      {
        key: "chunk_size",
        type: "int32",
        default: 1,
        description: "Number of frames to render in one Blender render task",
      },
      { key: "frames", type: "string", required: true, description: "Frame range to render, e.g. '1-250'" },
      {
        key: "render_output",
        type: "string",
        subtype: "hashed_file_path",
        required: true,
        description: "Where the frames go; '#' runs become the zero-padded frame number",
      },
      { key: "fps", type: "float", description: "Frames per second of the video (none: no video)" },
      { key: "extract_audio", type: "bool", default: true },
      { key: "images_or_video", type: "string", required: true, choices: ["images", "video"], visible: false },
      { key: "format", type: "string", required: true, description: "Blender's render format, e.g. PNG" },
      { key: "output_file_extension", type: "string", required: true, description: "e.g. .png" },
    ],
  },
  {
    name: ECHO_SLEEP_TEST,
    label: "Echo Sleep Test",
    settings: [
      { key: "message", type: "string", required: true, description: "What to echo" },
      { key: "sleep_duration_seconds", type: "int32", default: 1, description: "How long to sleep" },
    ],
  },
];

export function findJobType(name: string): JobTypeSpec | undefined {
  return jobTypes.find((t) => t.name === name);
}

/**
 * Checks `settings` against the type's declarations (the real Manager does not; jobs then fail on
 * the workers). Fills defaults. Throws `invalid` naming the offending setting.
 */
export function validateSettings(type: JobTypeSpec, settings: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...settings };
  for (const spec of type.settings) {
    const key = `settings.${spec.key}`;
    let value = settings[spec.key];
    if (value === undefined || value === null) {
      if (spec.required) throw invalid(key, `${key} is required for ${type.name} jobs`);
      if (spec.default === undefined) continue;
      value = spec.default;
    }
    switch (spec.type) {
      case "string":
        if (typeof value !== "string") throw invalid(key, `${key} must be a string`);
        if (spec.required && value.trim() === "") throw invalid(key, `${key} must not be empty`);
        if (spec.choices && !spec.choices.includes(value)) {
          throw invalid(key, `${key} must be one of ${spec.choices.map((c) => `"${c}"`).join(", ")}`);
        }
        break;
      case "int32":
        if (typeof value !== "number" || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
          throw invalid(key, `${key} must be a 32-bit integer`);
        }
        break;
      case "float":
        if (typeof value !== "number" || !Number.isFinite(value)) throw invalid(key, `${key} must be a number`);
        break;
      case "bool":
        if (typeof value !== "boolean") throw invalid(key, `${key} must be true or false`);
        break;
    }
    out[spec.key] = value;
  }
  return out;
}

/** What compiling a job yields: its frames, how they are cut, and whether a video task follows. */
export interface CompiledJob {
  frames: FrameList;
  chunkSize: number;
  /** Task type of the frame tasks (`blender` for renders, `misc` for the test type). */
  taskType: string;
  /** Whether a `frames-to-video` task (type `ffmpeg`) runs after all frames completed. */
  hasVideo: boolean;
}

export function compileJob(typeName: string, settings: Record<string, unknown>, maxFrames: number): CompiledJob {
  if (typeName === SIMPLE_BLENDER_RENDER) {
    const chunkSize = settings.chunk_size as number;
    if (chunkSize < 1) throw invalid("settings.chunk_size", "settings.chunk_size must be 1 or more");
    const frames = FrameList.parse(settings.frames as string, "settings.frames", maxFrames);
    const ext = String(settings.output_file_extension);
    if (!/^\.[A-Za-z0-9]+$/.test(ext)) {
      throw invalid("settings.output_file_extension", "settings.output_file_extension must look like .png");
    }
    return { frames, chunkSize, taskType: "blender", hasVideo: wantsVideo(settings) };
  }
  if (typeName === ECHO_SLEEP_TEST) {
    return { frames: FrameList.parse("1", "settings.frames"), chunkSize: 1, taskType: "misc", hasVideo: false };
  }
  throw invalid("type", `unknown job type "${typeName}"`);
}
