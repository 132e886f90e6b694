import { FarmError } from "../errors.js";
import type { FarmStorage } from "../storage.js";
import type { Job } from "./job.js";
import { SIMPLE_BLENDER_RENDER } from "./job-types.js";
import {
  type OutputClaim,
  outputClaimOf,
  refuseParentSegments,
  requireFolderBelowRoot,
  validateCommands,
} from "./job-validation.js";
import type { OutputClaims } from "./output-claims.js";
import { validateOutputFormat } from "./output-formats.js";

/** Checks of a job's settings before its paths are confined: programs, `..`, formats. Normalises `format`. */
export function checkSettingsBeforePaths(
  typeName: string,
  settings: Record<string, unknown>,
  allowedCommands: readonly string[],
): void {
  validateCommands(settings, allowedCommands);
  if (typeName !== SIMPLE_BLENDER_RENDER) return;
  refuseParentSegments(settings.filepath, "settings.filepath");
  refuseParentSegments(settings.render_output, "settings.render_output");
  settings.format = validateOutputFormat(settings.format, settings.output_file_extension);
}

/** Checks after confinement: the blend file lies in a folder below the root. */
export function checkSettingsAfterPaths(typeName: string, settings: Record<string, unknown>, storage: FarmStorage) {
  if (typeName !== SIMPLE_BLENDER_RENDER) return;
  requireFolderBelowRoot(String(settings.filepath), storage.root, "settings.filepath");
}

/** The claim of a job's frame paths (symbolic links resolved), or null for jobs that write no frames. */
export async function outputClaimOfJob(job: Pick<Job, "type" | "settings">, storage: FarmStorage) {
  if (job.type !== SIMPLE_BLENDER_RENDER) return null;
  return outputClaimOf(await storage.real(String(job.settings.render_output), "settings.render_output"));
}

/**
 * Claims the job's frame paths; `wrong-state` (409) naming the unfinished job that renders to the
 * same paths otherwise.
 */
export async function claimOutput(
  claims: OutputClaims,
  job: Pick<Job, "id" | "type" | "settings">,
  claim: OutputClaim | null,
  nameOf: (id: string) => Promise<string>,
): Promise<void> {
  if (!claim) return;
  const holder = await claims.claim(job.id, claim);
  if (!holder) return;
  throw new FarmError(
    "wrong-state",
    `settings.render_output: job ${holder} ("${await nameOf(holder)}") is unfinished and renders to the same frame ` +
      `paths (${claim.dir}, file names starting "${claim.prefix}"); choose another render_output, or wait until that ` +
      "job is completed, canceled, failed or deleted",
    { field: "settings.render_output" },
  );
}

/**
 * Checks a job's paths again just before a task is handed out (a folder may have been replaced by
 * a symbolic link since submission): the blend file and the render output, links resolved, inside
 * the root. Returns why not, or null when they are fine.
 */
export async function pathsStillConfined(job: Job, storage: FarmStorage): Promise<string | null> {
  if (job.type !== SIMPLE_BLENDER_RENDER) return null;
  const why = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (err: Error) => err.message,
    );
  // Both at once: one wait for the file system instead of two.
  const [blend, output] = await Promise.all([
    why(storage.real(String(job.settings.filepath), "settings.filepath")),
    why(storage.real(String(job.settings.render_output), "settings.render_output")),
  ]);
  return blend ?? output;
}

/** Why the job's command settings are not allowed (any more), or null. */
export function commandsRefused(job: Pick<Job, "settings">, allowedCommands: readonly string[]): string | null {
  try {
    validateCommands(job.settings, allowedCommands);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
