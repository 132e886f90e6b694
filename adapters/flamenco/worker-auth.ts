import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Farm } from "../../src/app/farm.js";
import { isFarmError } from "../../src/domain/errors.js";
import type { Session } from "../../src/domain/sessions/session.js";
import { originOf } from "../http/client-origin.js";
import { errorJson } from "./errors.js";

/** `Authorization: Basic base64(user:password)`; null when missing or malformed. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  const m = header && header.length <= 4096 ? /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header) : null;
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Worker authentication (the spec's `worker_auth`: HTTP Basic, worker UUID and secret). Missing
 * credentials: 401 with `WWW-Authenticate: Basic`; wrong ones: 403 with a `SecurityError` (thrown
 * by the domain as `forbidden`); too many wrong ones from the caller's address: 429 `Error` with
 * Retry-After, answered without hashing. Every authenticated call counts as the worker being seen.
 */
export function workerAuth(farm: Farm): MiddlewareHandler {
  return async (c, next) => {
    const creds = parseBasicAuth(c.req.header("authorization"));
    if (!creds) {
      c.header("WWW-Authenticate", 'Basic realm="Flamenco Manager", charset="UTF-8"');
      return errorJson(c, 401, "worker credentials are missing: use HTTP Basic with the worker's UUID and secret");
    }
    let session: Session;
    try {
      session = await farm.workers.authenticateSession(creds.user, creds.password, remoteAddress(c));
    } catch (err) {
      if (!isFarmError(err, "forbidden") || err.details.reason !== "rate-limited") throw err;
      c.header("Retry-After", "300");
      return errorJson(c, 429, err.message);
    }
    c.set("sessionId" as never, creds.user as never);
    c.set("workerSession" as never, session as never);
    await next();
  };
}

/** The authenticated worker's id (set by `workerAuth`). */
export function workerId(c: Context): string {
  return c.get("sessionId" as never) as string;
}

/** The worker's session as `workerAuth` read it with its touch (this request only). */
export function workerSession(c: Context): Session | undefined {
  return c.get("workerSession" as never) as Session | undefined;
}

/** The address the request came from (through TRUSTED_PROXIES); "" when the server does not say (in-process requests). */
export function remoteAddress(c: Context): string {
  return originOf(c).address;
}

/**
 * Caps a request body at `maxSize` bytes: 413 with an `Error` past it. The connection closes
 * after that answer, so the client does not send its next request after the unread rest.
 */
export function bodyCap(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: (c) => {
      c.header("Connection", "close");
      return errorJson(c, 413, `the request body is larger than ${maxSize} bytes`);
    },
  });
}
