/**
 * `error.php` types (../shared/specs/sheepit-protocol.txt) sorted by whom they describe
 * (sheepit-client-behaviour.md): the client's machine or set-up, the user or farm stopping the
 * render, or the frame itself.
 */

/**
 * Types that describe the machine or its set-up, not the frame: binary not available (5) or
 * missing (6), no scene in the blend file (7: the client deleted the unpacked project after a
 * renderer crash), download failed (9), cannot create a directory (10), missing libraries (15),
 * process execution failed (16), OS (17), CPU (18) or GPU (19) not supported, render engine not
 * available (27). Their frame goes back uncharged; they count against the session instead.
 */
export const SETUP_ERROR_TYPES: ReadonlySet<number> = new Set([5, 6, 7, 9, 10, 15, 16, 17, 18, 19, 27]);

/** Killed by the user (20) or by the farm (22): the frame goes back, nobody is charged. */
export const STOPPED_ERROR_TYPES: ReadonlySet<number> = new Set([20, 22]);

export type ErrorCharge = "none" | "session" | "frame";

/** Who an error report of `type` is charged to: nobody, the session (set-up), or the frame. */
export function chargeOf(type: number): ErrorCharge {
  if (STOPPED_ERROR_TYPES.has(type)) return "none";
  if (SETUP_ERROR_TYPES.has(type)) return "session";
  return "frame";
}
