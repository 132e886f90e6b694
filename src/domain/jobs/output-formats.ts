import { invalid } from "../errors.js";

/** The formats Blender 3.x accepts for `--render-format` (BKE_imtype_from_arg), plus its `EXR`/`MULTILAYER` spellings. */
export const blenderRenderFormats = [
  "TGA",
  "RAWTGA",
  "JPEG",
  "IRIS",
  "AVIRAW",
  "AVIJPEG",
  "PNG",
  "BMP",
  "HDR",
  "TIFF",
  "OPEN_EXR",
  "OPEN_EXR_MULTILAYER",
  "MPEG",
  "CINEON",
  "DPX",
  "DDS",
  "JP2",
  "WEBP",
  "EXR",
  "MULTILAYER",
] as const;

/** Movie formats: Blender writes one file for many frames; the farm takes frames only. */
const movieFormats = new Set(["AVIRAW", "AVIJPEG", "MPEG"]);

/** The image kind the farm decodes an upload as (adapters/storage/frame-files.ts). */
export type CheckedImage = "png" | "jpeg" | "tiff" | "exr";

/** Formats whose frames the farm checks on upload, with the extensions Blender gives them. */
const farmFormats: Record<string, { image: CheckedImage; extensions: readonly string[] }> = {
  PNG: { image: "png", extensions: [".png"] },
  JPEG: { image: "jpeg", extensions: [".jpg", ".jpeg"] },
  TIFF: { image: "tiff", extensions: [".tif", ".tiff"] },
  OPEN_EXR: { image: "exr", extensions: [".exr"] },
  EXR: { image: "exr", extensions: [".exr"] },
  OPEN_EXR_MULTILAYER: { image: "exr", extensions: [".exr"] },
  MULTILAYER: { image: "exr", extensions: [".exr"] },
};

/** Extensions of the frames the farm writes, and what an upload must decode as. */
const frameExtensions: Record<string, CheckedImage> = {
  ".png": "png",
  ".jpg": "jpeg",
  ".jpeg": "jpeg",
  ".tif": "tiff",
  ".tiff": "tiff",
  ".exr": "exr",
};

const FARM_FORMATS_TEXT = "PNG, JPEG, TIFF, OPEN_EXR (EXR) and OPEN_EXR_MULTILAYER (MULTILAYER)";
const FRAME_EXTENSIONS_TEXT = Object.keys(frameExtensions).join(", ");

/** What an uploaded frame with `extension` must decode as; null when the farm does not write such files. */
export function checkedImageFor(extension: string): CheckedImage | null {
  return frameExtensions[extension.toLowerCase()] ?? null;
}

/**
 * Checks `format` and `output_file_extension` of a render job: the format must be one Blender
 * renders (an unknown one makes Blender write PNG and exit 0), one whose frames the farm checks
 * (no movie formats, no formats it cannot decode), and the extension must be the one Blender gives
 * that format. Returns the format in Blender's spelling (upper case). Throws `invalid` naming
 * both settings.
 */
export function validateOutputFormat(formatSetting: unknown, extensionSetting: unknown): string {
  const ext = String(extensionSetting ?? "");
  const format = String(formatSetting ?? "")
    .trim()
    .toUpperCase();
  const both = "settings.format and settings.output_file_extension";
  if (!checkedImageFor(ext)) {
    throw invalid(
      "settings.output_file_extension",
      `settings.output_file_extension "${ext}" is not a frame the farm writes: the farm writes only frames it checks ` +
        `(${FRAME_EXTENSIONS_TEXT}), with settings.format ${FARM_FORMATS_TEXT}`,
    );
  }
  if (!(blenderRenderFormats as readonly string[]).includes(format)) {
    throw invalid(
      "settings.format",
      `settings.format "${String(formatSetting)}" is not a format Blender renders (--render-format takes ` +
        `${blenderRenderFormats.join(" ")}); ${both} must fit: the farm takes ${FARM_FORMATS_TEXT}`,
    );
  }
  if (movieFormats.has(format)) {
    throw invalid(
      "settings.format",
      `settings.format ${format} is a movie format; the farm renders frames only (${FARM_FORMATS_TEXT}, with a ` +
        `matching settings.output_file_extension); ask for images_or_video "video" to get a video made from the frames`,
    );
  }
  const known = farmFormats[format];
  if (!known) {
    throw invalid(
      "settings.format",
      `settings.format ${format} is a format Blender knows but the farm cannot check on upload; the farm takes ` +
        `${FARM_FORMATS_TEXT} (settings.output_file_extension ${FRAME_EXTENSIONS_TEXT})`,
    );
  }
  if (!known.extensions.includes(ext.toLowerCase())) {
    throw invalid(
      "settings.output_file_extension",
      `settings.output_file_extension "${ext}" does not fit settings.format ${format} (expected ` +
        `${known.extensions.join(" or ")})`,
    );
  }
  return format;
}
