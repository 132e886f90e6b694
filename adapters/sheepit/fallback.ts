import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import {
  ConfigStatus,
  JobRequestStatus,
  KeepAliveStatus,
  ReportStatus,
  ValidateStatus,
} from "../../contracts/sheepit/index.js";
import { FarmError } from "../../src/domain/errors.js";
import { statusXml, XML_CONTENT_TYPE } from "./xml.js";

/**
 * The edges of SheepIt's endpoints, outside adapters/sheepit/routes/: body caps for the form
 * endpoints, an XML answer for unknown paths and wrong methods under `/server/` and `/account.php`,
 * and XML for any other error answer there that is not XML yet. Real clients parse every answer
 * as XML, so nothing under these paths answers JSON or plain text.
 */

/** The answer's root element and status code of each endpoint when the request is refused. */
const refusal: Record<string, [root: string, status: number]> = {
  "/server/config.php": ["config", ConfigStatus.missingParameter],
  "/server/request_job.php": ["jobrequest", JobRequestStatus.badRequest],
  "/server/send_frame.php": ["jobvalidate", ValidateStatus.uploadFailed],
  "/server/keepmealive.php": ["keepmealive", KeepAliveStatus.stop],
  "/server/error.php": ["error", ReportStatus.badRequest],
  "/server/speedtest.php": ["speedtest", ReportStatus.badRequest],
  "/account.php": ["account", 400],
};

/** Body caps per endpoint (bytes); the frame upload has `UPLOAD_MAX` of its own. */
const caps: Record<string, number> = {
  "/server/request_job.php": 1024 * 1024, // a <cache> list of up to 10 000 archives
  "/server/error.php": 8 * 1024 * 1024, // a client's log (the first 1 MB is kept)
};
/** The cap of every other form endpoint. */
export const SHEEPIT_FORM_MAX = 64 * 1024;

/** The download endpoints (no XML answer of their own: 404 on errors, in XML here). */
const downloads = new Set(["/server/archive.php", "/server/binary.php", "/server/chunk.php"]);

export function isSheepitPath(path: string): boolean {
  return path.startsWith("/server/") || path === "/account.php";
}

function xmlRefusal(c: Context, httpStatus: 400 | 404 | 405 | 413, extra: Record<string, string> = {}): Response {
  const [root, status] = refusal[c.req.path] ?? ["error", httpStatus];
  return c.body(statusXml(root, status), httpStatus, { "Content-Type": XML_CONTENT_TYPE, ...extra });
}

/**
 * Caps the bodies of SheepIt's form endpoints: 413 in the endpoint's XML past the cap, the rest
 * unread. A declared Content-Length is judged before anything is read; a chunked body is counted
 * while the endpoint reads it (so a slow body still counts as a request in flight), and its read
 * fails at the cap.
 */
export function sheepitBodyCaps(): MiddlewareHandler {
  return async (c, next) => {
    const path = c.req.path;
    // Nothing here touches `c.req.raw.body` unless it must: on @hono/node-server that builds a
    // full web Request with a ReadableStream, which every request paid for before (the Flamenco
    // API's included), and which keeps a body from being read by the adapter's fast path.
    if (!isSheepitPath(path) || path === "/server/send_frame.php") return next();
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const max = caps[path] ?? SHEEPIT_FORM_MAX;
    const tooLarge = () => xmlRefusal(c, 413, { Connection: "close" });
    const declared = c.req.header("content-length");
    if (declared !== undefined && c.req.header("transfer-encoding") === undefined) {
      return Number(declared) > max ? tooLarge() : next();
    }
    const body = c.req.raw.body;
    if (!body) return next();
    let seen = 0;
    let over = false;
    const counted = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          seen += chunk.byteLength;
          if (seen > max) {
            over = true;
            ctl.error(new FarmError("too-large", `the request body is larger than ${max} bytes`));
            return;
          }
          ctl.enqueue(chunk);
        },
      }),
    );
    c.req.raw = new Request(c.req.raw, { body: counted, duplex: "half" } as RequestInit);
    await next();
    if (over) {
      c.res = undefined;
      c.res = tooLarge();
    }
  };
}

/** Turns an error answer on a SheepIt path that is not XML (a plain-text 404, say) into the endpoint's XML. */
export function sheepitXmlErrors(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (!isSheepitPath(c.req.path)) return;
    const res = c.res;
    if (res.status < 400 || res.status === 416) return;
    if ((res.headers.get("content-type") ?? "").startsWith("text/xml")) return;
    const [root, status] = refusal[c.req.path] ?? ["error", res.status];
    const headers = new Headers(res.headers);
    headers.set("Content-Type", XML_CONTENT_TYPE);
    headers.delete("Content-Length");
    c.res = undefined;
    c.res = new Response(statusXml(root, status), { status: res.status, headers });
  };
}

/**
 * Mounted after SheepIt's routes: any other method or path under `/server/` and `/account.php`
 * answers in XML (405 for a known endpoint, 404 for an unknown one), never the JSON 404 of the API.
 */
export function sheepitFallback(): Hono {
  const app = new Hono();
  const answer = (c: Context) => xmlRefusal(c, c.req.path in refusal || downloads.has(c.req.path) ? 405 : 404);
  app.all("/server/*", answer);
  app.all("/account.php", answer);
  return app;
}
