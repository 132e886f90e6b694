import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { JobRequestStatus, ValidateStatus } from "../../contracts/sheepit/index.js";
import type { Farm } from "../../src/app/farm.js";
import type { AppEnv } from "../../src/app/http-env.js";
import { type RenderClients, renderClientsOf } from "../../src/app/render-clients.js";
import { FarmError } from "../../src/domain/errors.js";
import { clientAborted } from "../http/client-aborted.js";
import { originOf } from "../http/client-origin.js";
import { type Endpoint, sheepitStatus } from "./status.js";
import { statusXml, XML_CONTENT_TYPE, xmlResponse } from "./xml.js";

/** The cookie that carries a SheepIt session (its value is random; only its hash is stored). */
export const SESSION_COOKIE = "bw_sheepit";

/** What every SheepIt route file is given by adapters/sheepit/app.ts. */
export interface SheepitKit {
  farm: Farm;
  service: RenderClients["service"];
  frames: RenderClients["frames"];
  /** SheepIt requests in flight in this process (the load measure for status 207). */
  inFlight(): number;
  /** Answers `err` as the endpoint's status code; an unexpected error is logged and answered HTTP 503. */
  fail(c: Context<AppEnv>, endpoint: Endpoint, err: unknown): Response;
  /** The session cookie of the request, if any. */
  cookieOf(c: Context<AppEnv>): string | undefined;
  /** The base URL this client used (PUBLIC_URL when set, else its Host; see adapters/http/client-origin.ts). */
  baseUrlOf(c: Context<AppEnv>): string;
}

export function remoteAddress(c: Context): string {
  return originOf(c).address || "unknown";
}

export function sheepitKit(farm: Farm, inFlight: () => number): SheepitKit {
  const { service, frames } = renderClientsOf(farm);
  return {
    farm,
    service,
    frames,
    inFlight,
    fail(c, endpoint, err) {
      const status = sheepitStatus(endpoint, err);
      if (err instanceof FarmError && err.kind === "too-large" && endpoint === "jobvalidate") {
        // The rest of the body is not read: the connection closes after this answer.
        c.header("Connection", "close");
        return xmlResponse(c, statusXml(endpoint, ValidateStatus.uploadFailed), 413);
      }
      if (status === null) {
        c.get("log")?.[clientAborted(c) ? "warn" : "error"]({ err, endpoint }, "SheepIt request failed");
        if (endpoint === "jobvalidate") return xmlResponse(c, statusXml(endpoint, ValidateStatus.uploadFailed));
        // HTTP 503 makes every client retry later; 2024 clients also read 204, "server internal error".
        const code = endpoint === "jobrequest" ? JobRequestStatus.serverError : 503;
        return c.body(statusXml(endpoint, code), 503, { "Content-Type": XML_CONTENT_TYPE });
      }
      c.get("log")?.debug({ endpoint, status, reason: (err as Error).message }, "SheepIt status");
      return xmlResponse(c, statusXml(endpoint, status));
    },
    cookieOf: (c) => getCookie(c, SESSION_COOKIE),
    baseUrlOf: (c) => originOf(c).baseUrl || farm.config.publicUrl,
  };
}
