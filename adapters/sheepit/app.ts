import { Hono } from "hono";
import type { Farm } from "../../src/app/farm.js";
import type { AppEnv } from "../../src/app/http-env.js";
import { sheepitKit } from "./route-kit.js";
import { configRoute } from "./routes/config.js";
import { downloadArchiveRoute } from "./routes/download-archive.js";
import { downloadBinaryRoute } from "./routes/download-binary.js";
import { downloadChunkRoute } from "./routes/download-chunk.js";
import { errorRoute } from "./routes/error.js";
import { keepAliveRoute } from "./routes/keepalive.js";
import { logoutRoute } from "./routes/logout.js";
import { requestJobRoute } from "./routes/request-job.js";
import { sendFrameRoute } from "./routes/send-frame.js";
import { speedtestRoute } from "./routes/speedtest.js";

export { parseRange } from "./file-answer.js";
export { SESSION_COOKIE } from "./route-kit.js";

/**
 * SheepIt's endpoints (`/server/*.php`, `/account.php`), one file per endpoint in routes/: each
 * parses with the contracts, calls one verb of the render-client service and answers `text/xml`
 * with the endpoint's status code. This file only wires them and counts the SheepIt requests in
 * flight in this process (the load measure for status 207).
 */
export function sheepitRoutes(farm: Farm): Hono {
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
  const kit = sheepitKit(farm, () => inFlight);
  for (const route of [
    configRoute,
    requestJobRoute,
    downloadArchiveRoute,
    downloadBinaryRoute,
    downloadChunkRoute,
    sendFrameRoute,
    keepAliveRoute,
    errorRoute,
    speedtestRoute,
    logoutRoute,
  ]) {
    route(app, kit);
  }
  // The server's request middleware sets the AppEnv variables these handlers read.
  return app as unknown as Hono;
}
