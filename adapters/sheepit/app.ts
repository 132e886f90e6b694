import fs from "node:fs";
import { Readable } from "node:stream";
import { type Context, Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import {
  ArchiveParams,
  ConfigParams,
  ConfigStatus,
  ErrorParams,
  JobRequestStatus,
  KeepAliveParams,
  ReportStatus,
  RequestJobParams,
  ValidateStatus,
  ValidationParams,
} from "../../contracts/sheepit/index.js";
import type { Farm } from "../../src/app/farm.js";
import type { AppEnv } from "../../src/app/http-env.js";
import { renderClientsOf, VALIDATION_PATH } from "../../src/app/render-clients.js";
import type { FarmStats } from "../../src/domain/clients/render-clients.js";
import { FarmError } from "../../src/domain/errors.js";
import { clientAborted } from "../http/client-aborted.js";
import { originOf } from "../http/client-origin.js";
import { readMultipart } from "./multipart.js";
import { formAndQuery, parseParams, queryParams, readText } from "./params.js";
import { type Endpoint, sheepitStatus } from "./status.js";
import {
  configXml,
  jobRequestXml,
  parseCache,
  parseSpeedtest,
  statusXml,
  XML_CONTENT_TYPE,
  xmlResponse,
} from "./xml.js";

/** The cookie that carries a SheepIt session (its value is random; only its hash is stored). */
export const SESSION_COOKIE = "bw_sheepit";

const JAVA_INT_MAX = 2 ** 31 - 1;
const jint = (n: number) => Math.max(0, Math.min(JAVA_INT_MAX, Math.floor(n)));

/** `<stats>` attributes, each a Java int. */
function statsAttrs(s: FarmStats) {
  return {
    credits_session: jint(s.sessionCredits),
    credits_total: jint(s.totalCredits),
    frame_remaining: jint(s.framesRemaining),
    waiting_project: jint(s.jobsWaiting),
    connected_machine: jint(s.connectedClients),
    renderable_project: jint(s.jobsWaiting),
  };
}

function remoteAddress(c: Context): string {
  return originOf(c).address || "unknown";
}

/**
 * SheepIt's endpoints (`/server/*.php`, `/account.php`): parse with the contracts, call one verb
 * of the render-client service, answer `text/xml` with the endpoint's status code. The load
 * measure for status 207 is the number of SheepIt requests in flight in this process.
 */
export function sheepitRoutes(farm: Farm): Hono {
  const { service, frames } = renderClientsOf(farm);
  const app = new Hono<AppEnv>();
  let inFlight = 0;

  app.use("*", async (_c, next) => {
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  });

  /** Answers `err` as the endpoint's status code; an unexpected error is logged and answered 503. */
  const fail = (c: Context<AppEnv>, endpoint: Endpoint, err: unknown): Response => {
    const status = sheepitStatus(endpoint, err);
    if (err instanceof FarmError && err.kind === "too-large" && endpoint === "jobvalidate") {
      // The rest of the body is not read: the connection closes after this answer.
      c.header("Connection", "close");
      return xmlResponse(c, statusXml(endpoint, ValidateStatus.uploadFailed), 413);
    }
    if (status === null) {
      c.get("log")?.[clientAborted(c) ? "warn" : "error"]({ err, endpoint }, "SheepIt request failed");
      if (endpoint === "jobvalidate") return xmlResponse(c, statusXml(endpoint, ValidateStatus.uploadFailed));
      return c.body(statusXml(endpoint, 503), 503, { "Content-Type": XML_CONTENT_TYPE });
    }
    c.get("log")?.debug({ endpoint, status, reason: (err as Error).message }, "SheepIt status");
    return xmlResponse(c, statusXml(endpoint, status));
  };
  const cookieOf = (c: Context<AppEnv>) => getCookie(c, SESSION_COOKIE);
  /** The base URL this client used (PUBLIC_URL when set, else its Host; see adapters/http/client-origin.ts). */
  const baseUrlOf = (c: Context<AppEnv>) => originOf(c).baseUrl || farm.config.publicUrl;

  // ---- session creation -----------------------------------------------------------------------
  app.on(["GET", "POST"], "/server/config.php", async (c) => {
    try {
      const raw = await formAndQuery(c);
      if (!raw.version) return xmlResponse(c, statusXml("config", ConfigStatus.noVersion));
      const p = parseParams(raw, ConfigParams);
      const { cookie, session, renderKey } = await service.signIn({
        login: p.login,
        password: p.password,
        version: p.version,
        os: p.os,
        bits: p.bits,
        hostname: p.hostname,
        hwid: p.hwid,
        ui: p.ui,
        cores: p.cpu_cores,
        ramKb: p.ram_max ?? p.ram,
        address: remoteAddress(c),
      });
      c.set("sessionId", session.id);
      setCookie(c, SESSION_COOKIE, cookie, {
        path: "/",
        httpOnly: true,
        sameSite: "Lax",
        secure: baseUrlOf(c).startsWith("https:"),
      });
      const mirrors = farm.config.SPEEDTEST_MIRRORS;
      return xmlResponse(
        c,
        configXml({
          status: ConfigStatus.ok,
          publickey: renderKey,
          requests: [
            { type: "request-job", path: "/server/request_job.php" },
            { type: "download-archive", path: "/server/archive.php" },
            { type: "error", path: "/server/error.php" },
            {
              type: "keepmealive",
              path: "/server/keepmealive.php",
              "max-period": Math.floor(farm.config.SHEEPIT_LEASE / 1000),
            },
            { type: "logout", path: "/account.php?mode=logout&worker=1" },
            { type: "speedtest-answer", path: "/server/speedtest.php" },
          ],
          ...(mirrors.length > 0 ? { speedtest: mirrors } : {}),
        }),
      );
    } catch (err) {
      return fail(c, "config", err);
    }
  });

  // ---- job request ----------------------------------------------------------------------------
  app.on(["GET", "POST"], "/server/request_job.php", async (c) => {
    try {
      const load = inFlight - 1;
      const raw = await formAndQuery(c);
      const p = parseParams(raw, RequestJobParams);
      const contentType = (c.req.header("content-type") ?? "").toLowerCase();
      const cache = contentType.startsWith("application/x-www-form-urlencoded")
        ? { files: [] }
        : parseCache(await readText(c));
      const answer = await service.requestFrame(cookieOf(c), {
        computeMethod: Number(p.computemethod) as 0 | 1 | 2,
        cores: p.cpu_cores,
        ramKb: p.ram_max,
        renderSecondsMax: p.rendertime_max,
        gpuType: p.gpu_type,
        gpuModel: p.gpu_model,
        vramBytes: p.gpu_ram,
        cached: cache.files.map((f) => f.md5),
        load,
        baseUrl: baseUrlOf(c),
      });
      const f = answer.frame;
      if (!f) {
        return xmlResponse(
          c,
          jobRequestXml({
            status: JobRequestStatus.noJob,
            stats: statsAttrs(answer.stats),
            deleteFiles: answer.deleteArchives,
          }),
        );
      }
      c.set("jobId", f.job.id);
      return xmlResponse(
        c,
        jobRequestXml({
          status: JobRequestStatus.ok,
          stats: statsAttrs(answer.stats),
          job: {
            id: f.sheepitId,
            use_gpu: f.useGpu ? 1 : 0,
            archive_md5: f.archive.md5,
            path: f.archive.blendPath,
            frame: f.frameText,
            synchronous_upload: 0,
            validation_url: encodeURIComponent(f.validationUrl),
            name: f.job.name,
            password: f.archive.password,
            extras: "",
            renderer: { md5: f.renderer.md5, commandline: f.renderer.commandline, update_method: "remainingtime" },
            script: f.script,
          },
          deleteFiles: answer.deleteArchives,
        }),
      );
    } catch (err) {
      return fail(c, "jobrequest", err);
    }
  });

  // ---- archives -------------------------------------------------------------------------------
  app.on(["GET", "POST", "HEAD"], "/server/archive.php", async (c) => {
    let found: { file: string; size: number; md5: string };
    try {
      const p = parseParams(await formAndQuery(c), ArchiveParams);
      found = await service.archiveFile(cookieOf(c), p.type, p.job);
    } catch (err) {
      if (!(err instanceof FarmError)) c.get("log")?.error({ err }, "archive lookup failed");
      return c.text("not found", 404);
    }
    const range = parseRange(c.req.header("range"), found.size);
    if (range === "unsatisfiable") {
      return c.body(null, 416, { "Content-Range": `bytes */${found.size}` });
    }
    const [start, end] = range ?? [0, found.size - 1];
    const headers: Record<string, string> = {
      "Content-Type": "application/zip",
      "Content-Length": String(Math.max(0, end - start + 1)),
      "Accept-Ranges": "bytes",
      ETag: `"${found.md5}"`,
    };
    if (range) headers["Content-Range"] = `bytes ${start}-${end}/${found.size}`;
    const status = range ? 206 : 200;
    if (c.req.method === "HEAD" || found.size === 0) return c.body(null, status, headers);
    const stream = fs.createReadStream(found.file, { start, end });
    return new Response(Readable.toWeb(stream) as ReadableStream, { status, headers });
  });

  // ---- frames back ----------------------------------------------------------------------------
  app.post(VALIDATION_PATH, async (c) => {
    let tmp: string | undefined;
    try {
      const q = queryParams(c);
      for (const k of ["job", "frame", "token"]) {
        if (!q[k]) throw new FarmError("invalid", `${k} is missing`, { field: k });
      }
      const p = parseParams(q, ValidationParams);
      const ticket = await service.uploadTicket(cookieOf(c), { sheepitId: p.job, frame: p.frame, token: p.token });
      c.set("sessionId", ticket.session.id);
      c.set("jobId", ticket.job.id);
      const max = farm.config.UPLOAD_MAX;
      if (Number(c.req.header("content-length") ?? "0") > max + 64 * 1024) {
        throw new FarmError("too-large", `the upload exceeds UPLOAD_MAX (${max} bytes)`);
      }
      tmp = await frames.tempFor(ticket.target);
      const mp = await readMultipart(c, { field: "file", sink: { path: tmp }, maxBytes: max });
      if (mp.truncated) throw new FarmError("too-large", `the upload exceeds UPLOAD_MAX (${max} bytes)`);
      if (!mp.gotFile) throw new FarmError("invalid", "the multipart part `file` is missing", { field: "file" });
      // acceptFrame consumes the file (placed or discarded), whatever it answers.
      const file = tmp;
      tmp = undefined;
      await service.acceptFrame(ticket, file, { renderSeconds: p.rendertime });
      return xmlResponse(c, statusXml("jobvalidate", ValidateStatus.ok));
    } catch (err) {
      return fail(c, "jobvalidate", err);
    } finally {
      if (tmp) await frames.discard(tmp);
    }
  });

  // ---- heartbeat, errors, speedtest, logout ---------------------------------------------------
  app.on(["GET", "POST"], "/server/keepmealive.php", async (c) => {
    try {
      const p = parseParams(await formAndQuery(c), KeepAliveParams);
      await service.keepAlive(cookieOf(c), {
        sheepitId: p.job,
        frame: p.frame,
        paused: p.paused === undefined ? undefined : p.paused === "true" || p.paused === "1",
      });
      return xmlResponse(c, statusXml("keepmealive", 0));
    } catch (err) {
      return fail(c, "keepmealive", err);
    }
  });

  app.on(["GET", "POST"], "/server/error.php", async (c) => {
    try {
      const raw = await formAndQuery(c);
      const mp = await readMultipart(c, { field: "file", sink: "text", maxBytes: 1024 * 1024 });
      const p = parseParams({ ...mp.fields, ...raw }, ErrorParams);
      await service.reportError(cookieOf(c), {
        type: p.type,
        sheepitId: p.job,
        frame: p.frame,
        renderSeconds: p.render_time,
        memoryKb: p.memoryused,
        log: mp.text,
      });
      return xmlResponse(c, statusXml("error", ReportStatus.ok));
    } catch (err) {
      return fail(c, "error", err);
    }
  });

  app.post("/server/speedtest.php", async (c) => {
    try {
      const body = parseSpeedtest(await readText(c));
      await service.recordSpeedtest(cookieOf(c), body.results);
      return xmlResponse(c, statusXml("speedtest", ReportStatus.ok));
    } catch (err) {
      return fail(c, "speedtest", err);
    }
  });

  app.on(["GET", "POST"], "/account.php", async (c) => {
    if (queryParams(c).mode !== "logout") return c.text("not found", 404);
    try {
      await service.signOut(cookieOf(c));
    } catch (err) {
      c.get("log")?.warn({ err }, "logout failed");
    }
    return xmlResponse(c, statusXml("logout", 0));
  });

  // The server's request middleware sets the AppEnv variables these handlers read.
  return app as unknown as Hono;
}

/** One `bytes=` range of a file of `size` bytes: [start, end] inclusive; null for none. */
export function parseRange(header: string | undefined, size: number): [number, number] | null | "unsatisfiable" {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return "unsatisfiable";
  return [start, end];
}
