import { sha256Hex } from "../secrets.js";

/** The session id behind a cookie: its hash, so the cookie itself is stored nowhere. */
export function sessionIdOf(cookie: string): string {
  return sha256Hex(`session|${cookie}`).slice(0, 32);
}
