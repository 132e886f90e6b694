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
