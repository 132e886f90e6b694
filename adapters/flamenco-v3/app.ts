import { Hono } from "hono";
import type { Farm } from "../../src/app/farm.js";
import { errorJson } from "../flamenco/errors.js";
import { v3ErrorResponse } from "./errors.js";
import { jobBlocklistRoutes } from "./job-blocklist.js";
import { jobQueryRoutesV3 } from "./jobs-query.js";
import { jobSubmitRoutesV3 } from "./jobs-submit.js";
import { lastRenderedRoutes } from "./last-rendered.js";
import { metaRoutesV3 } from "./meta.js";
import { taskStatusRoutes } from "./task-status.js";
import { taskRoutesV3 } from "./tasks.js";
import { workerRoutesV3 } from "./worker.js";
import { mayIRunRoutes } from "./worker-may-i-run.js";
import { workerMgtRoutesV3 } from "./worker-mgt.js";
import { outputProducedRoutes } from "./worker-output.js";
import { workerSleepScheduleRoutes } from "./worker-sleep-schedule.js";

/** Route groups of Flamenco 3's API (each file one endpoint or a few of one idea). */
export const flamencoV3Groups: Array<(farm: Farm) => Hono> = [
  metaRoutesV3,
  workerRoutesV3,
  mayIRunRoutes,
  outputProducedRoutes,
  jobSubmitRoutesV3,
  lastRenderedRoutes,
  jobQueryRoutesV3,
  jobBlocklistRoutes,
  taskRoutesV3,
  taskStatusRoutes,
  workerMgtRoutesV3,
  workerSleepScheduleRoutes,
];

/**
 * Flamenco 3's Manager API under `/api/v3`: a second thin dialect over the same domain verbs as
 * the 2022 API under `/api`. Failures are `Error` JSON (403 `SecurityError` for auth).
 */
export function flamencoV3Api(farm: Farm, groups = flamencoV3Groups) {
  const api = new Hono();
  for (const group of groups) api.route("/", group(farm));
  api.notFound((c) => errorJson(c, 404, `no route ${c.req.method} ${c.req.path}`));
  api.onError((err, c) => {
    const res = v3ErrorResponse(c, err);
    if (res.status >= 500) farm.logger.error({ err, path: c.req.path }, "request failed");
    return res;
  });
  return api;
}
