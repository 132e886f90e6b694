import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { routePath } from "hono/route";
import { dashboardRoutes } from "../../adapters/dashboard/app.js";
import { flamencoApi } from "../../adapters/flamenco/app.js";
import { errorJson } from "../../adapters/flamenco/errors.js";
import { taskLogRoutes } from "../../adapters/flamenco/tasks.js";
import { workerRoutes } from "../../adapters/flamenco/worker.js";
import { workerMgtRoutes } from "../../adapters/flamenco/worker-mgt.js";
import { flamencoV3Api } from "../../adapters/flamenco-v3/app.js";
import { jsonBodyCap } from "../../adapters/http/body-caps.js";
import { clientAborted } from "../../adapters/http/client-aborted.js";
import { clientOrigin } from "../../adapters/http/client-origin.js";
import { controlAuth } from "../../adapters/http/control-auth.js";
import { webRoutes } from "../../adapters/http/web-files.js";
import { sheepitRoutes } from "../../adapters/sheepit/app.js";
import { sheepitBodyCaps, sheepitFallback, sheepitXmlErrors } from "../../adapters/sheepit/fallback.js";
import { controlTokensOf } from "./control.js";
import type { Farm } from "./farm.js";
import { type AppEnv, protocolOf } from "./http-env.js";
import { Metrics } from "./metrics.js";

/** Route groups mounted under `/api` next to the job API (each protocol part adds its own). */
const flamencoGroups: Array<(farm: Farm) => Hono> = [workerRoutes, workerMgtRoutes, taskLogRoutes, dashboardRoutes];

/** Route groups mounted at the root: SheepIt's PHP-style endpoints. */
const rootGroups: Array<(farm: Farm) => Hono> = [sheepitRoutes];

/**
 * The HTTP app: request ids and logs, the Flamenco API under `/api`, the SheepIt endpoints and the
 * ops endpoints at the root. Everything it serves comes from one Farm.
 */
export function createHttpApp(farm: Farm) {
  const app = new Hono<AppEnv>();
  const metrics = new Metrics();

  app.use(async (c, next) => {
    const requestId = c.req.header("x-request-id")?.slice(0, 100) || randomUUID();
    const log = farm.logger.child({ reqId: requestId });
    c.set("requestId", requestId);
    c.set("log", log);
    c.header("X-Request-Id", requestId);
    const started = performance.now();
    await next();
    const elapsed = performance.now() - started;
    const ms = Math.round(elapsed * 10) / 10;
    // A client that left mid-request is not a server error: logged as aborted (499, nginx's code).
    const aborted = clientAborted(c);
    const status = aborted ? 499 : c.res.status;
    const protocol = protocolOf(c.req.path);
    const route = status === 404 && routePath(c) === "*" ? "unmatched" : routePath(c);
    metrics.observeRequest(protocol, c.req.method, route, status, elapsed / 1000);
    log[aborted ? "warn" : status >= 500 ? "error" : "info"](
      {
        method: c.req.method,
        path: c.req.path,
        protocol,
        status,
        ms,
        session: c.get("sessionId"),
        job: c.get("jobId"),
        ...(aborted ? { aborted: true } : {}),
      },
      "request",
    );
  });

  app.use(
    clientOrigin({
      publicUrl: farm.config.publicUrlSet ? farm.config.publicUrl : undefined,
      fallbackUrl: farm.config.publicUrl,
      trustedProxies: farm.config.TRUSTED_PROXIES,
    }),
  );

  // Farm control needs CONTROL_ALLOWED_NETWORKS or a control token; render clients pass.
  app.use(
    controlAuth({
      allowedNetworks: farm.config.CONTROL_ALLOWED_NETWORKS,
      verifyToken: (token) => controlTokensOf(farm).verify(token),
    }),
  );
  app.use(jsonBodyCap(farm.config.JSON_BODY_MAX));
  app.use(sheepitXmlErrors());
  app.use(sheepitBodyCaps());

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    try {
      await farm.ready();
      return c.json({ status: "ready" });
    } catch (err) {
      return c.json({ status: "not ready", reason: (err as Error).message }, 503);
    }
  });
  app.get("/metrics", async (c) =>
    c.text(await metrics.render(farm), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }),
  );

  app.route("/api/v3", flamencoV3Api(farm));
  app.route("/api", flamencoApi(farm, flamencoGroups));
  for (const group of rootGroups) app.route("/", group(farm));
  // The web dashboard's page and bundle (its data comes through the guarded API).
  app.route("/", webRoutes());
  app.route("/", sheepitFallback());

  app.notFound((c) => errorJson(c, 404, `no route ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    c.get("log")?.error({ err }, "unhandled error");
    return errorJson(c, 500, "internal error; the gateway log has the details");
  });
  return app;
}
