import { randomToken } from "../secrets.js";

/** Render keys start with this, so a login can tell a key from a password without trying both. */
export const RENDER_KEY_PREFIX = "bwk1_";

/** A new render key: 256 random bits (stored as a SHA-256, see src/domain/secrets.ts). */
export function newRenderKey(): string {
  return RENDER_KEY_PREFIX + randomToken();
}
