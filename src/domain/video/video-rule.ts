/**
 * When a job gets a video, how ffmpeg is told to make it, and who makes it. Flamenco's rule
 * (flamenco-manager-behaviour.md): a `frames-to-video` task (type `ffmpeg`) only when `fps` is set
 * (non-zero), `output_file_extension` is set and the format is one ffmpeg reads as an image
 * sequence. A job without one is `completed` when its frames are.
 */

/** Formats ffmpeg cannot read as an image sequence, so no video task follows them. */
const noVideoFormats = new Set(["EXR", "OPEN_EXR", "OPEN_EXR_MULTILAYER", "MULTILAYER"]);
const noVideoExtensions = new Set([".exr"]);

/** The job's frame rate when it asks for a video: a positive finite `fps`, else undefined. */
export function videoFps(settings: Record<string, unknown>): number | undefined {
  const fps = settings.fps;
  return typeof fps === "number" && Number.isFinite(fps) && fps > 0 ? fps : undefined;
}

/** Whether a job with these (validated) settings gets a `frames-to-video` task. */
export function wantsVideo(settings: Record<string, unknown>): boolean {
  if (videoFps(settings) === undefined) return false;
  const ext = typeof settings.output_file_extension === "string" ? settings.output_file_extension.trim() : "";
  if (ext === "" || noVideoExtensions.has(ext.toLowerCase())) return false;
  const format = String(settings.format ?? "").toUpperCase();
  return !noVideoFormats.has(format);
}

/** NTSC rates written as decimals, given to ffmpeg exactly. */
const exactRates: ReadonlyArray<readonly [number, string]> = [
  [23.976, "24000/1001"],
  [29.97, "30000/1001"],
  [47.952, "48000/1001"],
  [59.94, "60000/1001"],
  [119.88, "120000/1001"],
];

/** A frame rate as ffmpeg reads it: `24`, `25`, `30000/1001` for 29.97, `12.5` as given. */
export function ffmpegRate(fps: number): string {
  for (const [approx, exact] of exactRates) if (Math.abs(fps - approx) < 0.0015) return exact;
  if (Number.isInteger(fps)) return String(fps);
  return String(Number(fps.toFixed(6)));
}

/**
 * The ffmpeg arguments of a job's video, as the `frames-to-video` command carries them. The
 * Flamenco worker runs `exe argsBefore -pattern_type glob -i <inputGlob> args <outputFile>`:
 * the input rate (`-framerate`) must be in `argsBefore`, before `-i`, or ffmpeg reads the images
 * at 25 frames/s and `-r` then drops or repeats frames. One function for the handed-out command
 * and the gateway's own run, so both make the same video.
 */
export function videoArgs(fps: number): { argsBefore: string[]; args: string[] } {
  const rate = ffmpegRate(fps);
  return {
    argsBefore: ["-framerate", rate],
    args: [
      "-c:v",
      "h264",
      "-crf",
      "20",
      "-g",
      "18",
      "-vf",
      "pad=ceil(iw/2)*2:ceil(ih/2)*2",
      "-pix_fmt",
      "yuv420p",
      "-r",
      rate,
      "-y",
    ],
  };
}

/** The `frames-to-video` parameters the command line is built from. */
export interface FramesToVideoParams {
  exe: string;
  argsBefore: readonly string[];
  inputGlob: string;
  outputFile: string;
  args: readonly string[];
}

/**
 * The command line a Flamenco worker (Linux, macOS) builds from a `frames-to-video` command:
 * `[exe, ...argsBefore, -pattern_type, glob, -i, inputGlob, ...args, outputFile]`.
 */
export function framesToVideoCommandLine(p: FramesToVideoParams): string[] {
  return [p.exe, ...p.argsBefore, "-pattern_type", "glob", "-i", p.inputGlob, ...p.args, p.outputFile];
}

/** Who makes a waiting video, and what the job's view says about it. */
export type VideoRunner = "worker" | "gateway" | "waits";

/**
 * A video waiting to be made goes to a signed-on ffmpeg-capable worker when there is one; else
 * the gateway makes it with its own ffmpeg, unless the operator turned that off (it then waits).
 */
export function videoRunner(o: { ffmpegWorkerOnline: boolean; gatewayFfmpeg: boolean }): VideoRunner {
  if (o.ffmpegWorkerOnline) return "worker";
  return o.gatewayFfmpeg ? "gateway" : "waits";
}

/** The one line the job's view shows about its video (empty for a job without one). */
export function videoActivity(
  job: { hasVideo: boolean; videoState: string; completedFrames: number; frameCount: number },
  runner: VideoRunner,
  heldByGateway: boolean,
): string {
  if (!job.hasVideo) return "";
  switch (job.videoState) {
    case "completed":
      return heldByGateway ? "video made by the gateway" : "video made";
    case "failed":
      return "video failed; requeue the job to try again";
    case "active":
      return heldByGateway ? "video being made by the gateway" : "video being made by an ffmpeg worker";
  }
  if (job.completedFrames < job.frameCount) return "video follows once every frame is rendered";
  if (runner === "worker") return "video waits for an ffmpeg-capable worker (one is signed on)";
  if (runner === "gateway") return "video waits for the gateway's ffmpeg (no ffmpeg-capable worker is signed on)";
  return "video waits for an ffmpeg-capable worker (none is signed on; GATEWAY_FFMPEG is off)";
}

/** A signed-on client that can make a video now: an awake Flamenco worker with the `ffmpeg` type, seen lately. */
export function canRunFfmpeg(
  s: { protocol: string; status: string; lastSeen: number; caps: { taskTypes: readonly string[] } },
  seenSince: number,
): boolean {
  return (
    s.protocol === "flamenco" && s.status === "awake" && s.lastSeen >= seenSince && s.caps.taskTypes.includes("ffmpeg")
  );
}
