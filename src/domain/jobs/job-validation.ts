import path from "node:path";
import { invalid } from "../errors.js";

/**
 * Settings that name the program a task runs, with the only value a job may give them unless the
 * operator allows more (ALLOWED_BLENDER_CMDS): the platform's configured command.
 */
const commandSettings: Record<string, string> = {
  blender_cmd: "{blender}",
  ffmpeg_cmd: "{ffmpeg}",
};

/**
 * A job cannot choose the program its tasks run: every command setting must be the platform's
 * command (`{blender}`, `{ffmpeg}`), or one of `allowed` exactly. Throws `invalid` naming the setting.
 */
export function validateCommands(settings: Record<string, unknown>, allowed: readonly string[] = []): void {
  for (const [key, platform] of Object.entries(commandSettings)) {
    const value = settings[key];
    if (value === undefined || value === null || value === platform) continue;
    if (typeof value === "string" && allowed.includes(value)) continue;
    const more = allowed.length > 0 ? ` or one of ALLOWED_BLENDER_CMDS (${allowed.join(", ")})` : "";
    throw invalid(
      `settings.${key}`,
      `settings.${key} must be "${platform}" (the command the farm configures per platform)${more}; ` +
        "an operator allows other commands with ALLOWED_BLENDER_CMDS",
    );
  }
}

/** Refuses `..` as a path part in any separator style (`a/../b`, `a\..\b`). */
export function refuseParentSegments(p: unknown, field: string): void {
  if (typeof p !== "string") return;
  if (p.split(/[\\/]+/).some((part) => part.trim() === "..")) {
    throw invalid(field, `${field} must not contain ".." (in any separator style)`);
  }
}

/** A blend file must lie in a folder below the storage root: its archive holds that folder. */
export function requireFolderBelowRoot(blendFile: string, root: string, field: string): void {
  if (path.resolve(path.dirname(blendFile)) === path.resolve(root)) {
    throw invalid(
      field,
      `${field} must lie in a folder below the farm storage (${root}), not directly in it: ` +
        "SheepIt clients get that folder as the job's archive",
    );
  }
}

/** The part of the render output two jobs may not share: its folder and the file name before the frame number. */
export interface OutputClaim {
  dir: string;
  prefix: string;
}

/**
 * The claim of a (resolved) render output: its folder and the file name up to the last run of `#`
 * (the whole name when there is none; see frameOutputPath). Two claims clash when the folders are
 * the same and one prefix starts with the other (`shot` and `shot_`, `s` and `s0`): their frame
 * files could then be the same.
 */
export function outputClaimOf(realRenderOutput: string): OutputClaim {
  const dir = path.dirname(realRenderOutput);
  const name = path.basename(realRenderOutput);
  const m = /#+(?!.*#)/.exec(name);
  return { dir, prefix: m ? name.slice(0, m.index) : name };
}

/** Whether two claims clash (see outputClaimOf). */
export function claimsClash(a: OutputClaim, b: OutputClaim): boolean {
  return a.dir === b.dir && (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix));
}
