import { Hono } from "hono";
import type { Farm } from "../../src/app/farm.js";
import { errorJson, farmErrorResponse } from "./errors.js";
import { jobRoutes } from "./jobs.js";
import { metaRoutes } from "./meta.js";
import { openApiRoutes } from "./openapi.js";

/**
 * Flamenco's Manager API under `/api`. Every answer that is not a success is an `Error` JSON:
 * unknown routes 404, malformed bodies 400, domain errors by their kind.
 */
export function flamencoApi(farm: Farm, extra: Array<(farm: Farm) => Hono> = []) {
  const api = new Hono();
  api.route("/", metaRoutes());
  api.route("/", openApiRoutes());
  api.route("/", jobRoutes(farm));
  for (const group of extra) api.route("/", group(farm));
  api.notFound((c) => errorJson(c, 404, `no route ${c.req.method} ${c.req.path}`));
  api.onError((err, c) => {
    const res = farmErrorResponse(c, err);
    if (res.status >= 500) farm.logger.error({ err, path: c.req.path }, "request failed");
    return res;
  });
  return api;
}
