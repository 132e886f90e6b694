import { createHash } from "node:crypto";
import path from "node:path";
import { FarmError, invalid } from "../errors.js";
import type { Job, JobDefinition } from "./job.js";
import type { JobService } from "./job-service.js";
import { ECHO_SLEEP_TEST, type JobSettingSpec, SIMPLE_BLENDER_RENDER, validateSettings } from "./job-types.js";
import { intermediateRenderOutput } from "./move-to-final.js";

/** A setting as Flamenco 3 declares it: `visible` is an enum, `eval` a Python expression for the add-on. */
export interface JobSettingSpecV3 extends Omit<JobSettingSpec, "visible"> {
  visible?: "visible" | "hidden" | "submission" | "web";
  eval?: string;
  propargs?: Record<string, unknown>;
}

export interface JobTypeSpecV3 {
  name: string;
  label: string;
  settings: JobSettingSpecV3[];
}

/**
 * The job types Flamenco 3 clients see, with the 3.x settings of `simple-blender-render` (what the
 * 3.x add-on fills in). A 3.x job is translated into the farm's own job definition (`toDefinition`)
 * and submitted like any other, so every rule of JobService applies to it unchanged.
 */
export const jobTypesV3: readonly JobTypeSpecV3[] = [
  {
    name: SIMPLE_BLENDER_RENDER,
    label: "Simple Blender Render",
    settings: [
      {
        key: "frames",
        type: "string",
        required: true,
        eval: "f'{C.scene.frame_start}-{C.scene.frame_end}'",
        visible: "submission",
        description: "Frame range to render. Examples: '47', '1-30', '3, 5-10, 47-327'",
      },
      {
        key: "chunk_size",
        type: "int32",
        default: 1,
        visible: "submission",
        description: "Number of frames to render in one Blender render task",
      },
      {
        key: "render_output_root",
        type: "string",
        subtype: "dir_path",
        required: true,
        visible: "submission",
        description:
          "Base directory of where render output is stored. Will have some job-specific parts appended to it",
      },
      {
        key: "add_path_components",
        type: "int32",
        required: true,
        default: 0,
        propargs: { min: 0, max: 32 },
        visible: "submission",
        description: "Number of path components of the current blend file to use in the render output path",
      },
      {
        key: "render_output_path",
        type: "string",
        subtype: "file_path",
        required: true,
        editable: false,
        eval: "str(Path(abspath(settings.render_output_root), last_n_dir_parts(settings.add_path_components), jobname, '{timestamp}', '######'))",
        description: "Final file path of where render output will be saved",
      },
      { key: "blender_cmd", type: "string", default: "{blender}", visible: "hidden" },
      {
        key: "blendfile",
        type: "string",
        required: true,
        eval: "bpy.data.filepath",
        visible: "web",
        description: "Path of the Blend file to render",
      },
      { key: "fps", type: "float", eval: "C.scene.render.fps / C.scene.render.fps_base", visible: "hidden" },
      {
        key: "images_or_video",
        type: "string",
        choices: ["images", "video"],
        default: "images",
        visible: "hidden",
        eval: "'video' if C.scene.render.image_settings.file_format in {'FFMPEG', 'AVI_RAW', 'AVI_JPEG'} else 'images'",
      },
      {
        key: "format",
        type: "string",
        required: true,
        eval: "C.scene.render.image_settings.file_format",
        visible: "web",
      },
      {
        key: "image_file_extension",
        type: "string",
        required: true,
        eval: "C.scene.render.file_extension",
        visible: "hidden",
        description: "File extension used when rendering images",
      },
      { key: "video_container_format", type: "string", eval: "C.scene.render.ffmpeg.format", visible: "hidden" },
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

export function findJobTypeV3(name: string): JobTypeSpecV3 | undefined {
  return jobTypesV3.find((t) => t.name === name);
}

/** The type's etag: a stable hash of its label and settings definition (changes when they do). */
export function jobTypeEtag(type: JobTypeSpecV3): string {
  return createHash("sha1")
    .update(JSON.stringify({ name: type.name, label: type.label, settings: type.settings }))
    .digest("hex");
}

/** Flamenco's `{timestamp}`: the job's creation time as `2006-01-02_150405` (UTC). */
export function flamencoTimestamp(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 10)}_${iso.slice(11, 19).replaceAll(":", "")}`;
}

/** The key under which a job keeps the platform its 3.x submitter ran on. */
export const SUBMITTER_PLATFORM_KEY = "flamenco.submitter_platform";

export interface SubmittedJobV3 {
  name: string;
  type: string;
  typeEtag?: string;
  priority: number;
  settings: Record<string, unknown>;
  metadata: Record<string, string>;
  submitterPlatform: string;
}

/**
 * A 3.x submission as the farm's job definition: the 3.x settings are checked against their 3.x
 * declarations (required, types, choices), then `blendfile` becomes `filepath`,
 * `render_output_path` has `{timestamp}` replaced and the farm renders into the intermediate folder
 * beside its folder (`render_output`, see move-to-final.ts), `image_file_extension` becomes
 * `output_file_extension`; a job whose output is a video (`images_or_video: video`) gets no
 * `preview-video` (its `fps` is not passed on). The 3.x settings stay in the job. A `type_etag` that is not the type's
 * etag is refused (`invalid` with `staleEtag`: the add-on's settings are out of date).
 */
export function toDefinition(sub: SubmittedJobV3, now: Date): JobDefinition {
  const type = findJobTypeV3(sub.type);
  if (!type) throw invalid("type", `unknown job type "${sub.type}"`);
  if (sub.typeEtag !== undefined && sub.typeEtag !== jobTypeEtag(type)) {
    throw new FarmError(
      "invalid",
      `type_etag does not match job type "${type.name}": refresh the job types and submit again`,
      {
        field: "type_etag",
        staleEtag: true,
      },
    );
  }
  const declared = {
    name: type.name,
    label: type.label,
    settings: type.settings.map(({ visible, eval: _e, propargs, ...s }) => s),
  };
  const s = validateSettings(declared, sub.settings);
  const metadata = { ...sub.metadata, [SUBMITTER_PLATFORM_KEY]: sub.submitterPlatform };
  if (type.name !== SIMPLE_BLENDER_RENDER)
    return { name: sub.name, type: type.name, priority: sub.priority, settings: s, metadata };
  const stamp = flamencoTimestamp(now);
  const renderOutput = String(s.render_output_path).replaceAll("{timestamp}", stamp);
  // The final folder is moved into place at the end: it must be a folder below the storage root.
  if (["", ".", "/"].includes(path.dirname(renderOutput))) {
    throw invalid(
      "settings.render_output_path",
      "settings.render_output_path must name a file pattern in a folder below the farm storage's root",
    );
  }
  const finalDir = path.dirname(renderOutput);
  if (path.relative(finalDir, String(s.blendfile)).split(/[\\/]/)[0] !== "..") {
    throw invalid(
      "settings.render_output_path",
      "settings.render_output_path must not lie in a folder above the blend file: that folder is moved into place at the end",
    );
  }
  const { fps, ...rest } = s;
  return {
    name: sub.name,
    type: type.name,
    priority: sub.priority,
    metadata,
    settings: {
      ...rest,
      ...(s.images_or_video === "video" || fps === undefined ? {} : { fps }),
      render_output_path: renderOutput,
      filepath: s.blendfile,
      render_output: intermediateRenderOutput(renderOutput, stamp),
      output_file_extension: s.image_file_extension,
    },
  };
}

/** Submits a 3.x job through JobService (every rule of a 2022 submission applies). */
export function submitV3(jobs: JobService, sub: SubmittedJobV3, now = new Date()): Promise<Job> {
  return jobs.submit(toDefinition(sub, now));
}
