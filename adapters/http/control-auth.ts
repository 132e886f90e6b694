import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../src/app/http-env.js";
import { AllowedNetworks } from "../../src/domain/workers/networks.js";
import { errorJson } from "../flamenco/errors.js";
import { originOf } from "./client-origin.js";

/**
 * The trust boundary between render clients and farm control. Render clients (SheepIt endpoints,
 * the Flamenco worker API) pass untouched; farm control (everything else under `/api`, and
 * `/metrics`) needs a client address in `CONTROL_ALLOWED_NETWORKS` or `Authorization: Bearer
 * <token>` of a valid control token. What stays open for everyone: what the Blender add-on and
 * workers read before anything else (`/api/version`, `/api/jobs/types`), the API's description
 * (`/api/openapi.json`, `/api/docs`) and the probes (`/healthz`, `/readyz`).
 */
export interface ControlAuthOptions {
  /** `CONTROL_ALLOWED_NETWORKS` entries (an empty list allows no address: tokens only). */
  allowedNetworks: readonly string[];
  /** The token's name when `token` is a valid control token, else null. */
  verifyToken(token: string): Promise<string | null>;
}

const OPEN_API = new Set(["/api/version", "/api/jobs/types", "/api/openapi.json", "/api/docs"]);
/** Flamenco 3: what the 3.x add-on and workers read before anything else. */
const OPEN_API_V3 = new Set(["/api/v3/version", "/api/v3/configuration", "/api/v3/jobs/types"]);

/** True for the paths that need a control credential. Unknown paths under `/api` count as control (default deny). */
export function isControlPath(path: string): boolean {
  if (path === "/metrics") return true;
  if (path !== "/api" && !path.startsWith("/api/")) return false;
  if (OPEN_API.has(path)) return false;
  if (OPEN_API_V3.has(path) || path.startsWith("/api/v3/worker/")) return false;
  // One job type of Flamenco 3 (`jobs/type/{name}`) is what `jobs/types` shows anyway.
  if (/^\/api\/v3\/jobs\/type\/[^/]+$/.test(path)) return false;
  // The Flamenco worker API (registration has its own network rule, the rest HTTP Basic auth).
  return !path.startsWith("/api/worker/");
}

const BEARER_RE = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i;

export function controlAuth(opts: ControlAuthOptions): MiddlewareHandler<AppEnv> {
  const networks = opts.allowedNetworks.length > 0 ? new AllowedNetworks(opts.allowedNetworks) : null;
  return async (c, next) => {
    if (!isControlPath(c.req.path)) return next();
    const address = originOf(c).address;
    if (networks && address !== "" && networks.allows(address)) return next();
    const header = c.req.header("authorization");
    const token = header ? BEARER_RE.exec(header)?.[1] : undefined;
    if (token) {
      let name: string | null;
      try {
        name = await opts.verifyToken(token);
      } catch (err) {
        c.get("log")?.warn({ err }, "control token check failed");
        return errorJson(
          c,
          503,
          "the control token cannot be checked now (the farm's Redis does not answer); try again",
        );
      }
      if (name !== null) return next();
    }
    const from = address ? `from ${address}` : "from an unknown address";
    const why = header
      ? "its Authorization is not a valid control token (revoked, mistyped or not Bearer)"
      : "it carries no token";
    return errorJson(
      c,
      403,
      `farm control is refused ${from}: ${why}. Send "Authorization: Bearer <token>" with a token made by ` +
        "`bellwether token add <name>`, or list the caller's network in CONTROL_ALLOWED_NETWORKS.",
    );
  };
}
