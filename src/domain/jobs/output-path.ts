import path from "node:path";

/**
 * The file Blender writes for `frame` with `--render-output <renderOutput>` (BLI_path_frame): the
 * last run of `#` in the file name (runs in folder names do not count) becomes the frame number
 * with at least as many digits as the run has `#` (printf's `%.*d`: a minus sign comes on top, so
 * -5 in `####` is `-0005`); without `#` in the file name, four digits are appended. The extension
 * follows (Blender's "file extensions" option, on by default). Flamenco workers and SheepIt
 * uploads both land on this path.
 */
export function frameOutputPath(renderOutput: string, frame: number, extension: string): string {
  const digits = (width: number) => (frame < 0 ? "-" : "") + String(Math.abs(frame)).padStart(width, "0");
  const nameStart = Math.max(renderOutput.lastIndexOf("/"), renderOutput.lastIndexOf("\\")) + 1;
  const m = /#+(?!.*#)/.exec(renderOutput.slice(nameStart));
  const base = m
    ? renderOutput.slice(0, nameStart + m.index) +
      digits(m[0].length) +
      renderOutput.slice(nameStart + m.index + m[0].length)
    : `${renderOutput}${digits(4)}`;
  return base + extension;
}

/** The folder the frames of `renderOutput` land in (where the video task looks for them). */
export function outputDir(renderOutput: string): string {
  return path.dirname(renderOutput);
}
