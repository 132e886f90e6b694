import path from "node:path";

/**
 * The file Blender writes for `frame` with `--render-output <renderOutput>`: the last run of `#`
 * becomes the frame number zero-padded to the run's length; without `#`, the frame padded to four
 * digits is appended. The extension follows (Blender's "file extensions" option, on by default).
 * Flamenco workers and SheepIt uploads both land on this path.
 */
export function frameOutputPath(renderOutput: string, frame: number, extension: string): string {
  const sign = frame < 0 ? "-" : "";
  const abs = Math.abs(frame);
  const m = /#+(?!.*#)/.exec(renderOutput);
  const base = m
    ? renderOutput.slice(0, m.index) +
      sign +
      String(abs).padStart(m[0].length - sign.length, "0") +
      renderOutput.slice(m.index + m[0].length)
    : `${renderOutput}${sign}${String(abs).padStart(4 - sign.length, "0")}`;
  return base + extension;
}

/** The folder the frames of `renderOutput` land in (where the video task looks for them). */
export function outputDir(renderOutput: string): string {
  return path.dirname(renderOutput);
}
