import type { MiddlewareHandler } from "hono";
import { bodyCap } from "../flamenco/worker-auth.js";

/**
 * `JSON_BODY_MAX` for every JSON API call under `/api` except the Flamenco worker API (whose
 * routes carry their own caps: task updates bring logs). Past the cap: 413 `Error` without
 * reading the rest (a declared Content-Length is refused before a byte is read; a chunked body
 * is cut off where it passes the cap), and the connection closes after the answer.
 */
export function jsonBodyCap(maxSize: number): MiddlewareHandler {
  const cap = bodyCap(maxSize);
  return async (c, next) => {
    const path = c.req.path;
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    if (!path.startsWith("/api/") || path.startsWith("/api/worker/") || path.startsWith("/api/v3/worker/"))
      return next();
    return cap(c, next);
  };
}
