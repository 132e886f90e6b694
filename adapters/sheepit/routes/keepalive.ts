import type { Hono } from "hono";
import { KeepAliveParams } from "../../../contracts/sheepit/index.js";
import type { AppEnv } from "../../../src/app/http-env.js";
import { formAndQuery, parseParams } from "../params.js";
import type { SheepitKit } from "../route-kit.js";
import { statusXml, xmlResponse } from "../xml.js";

/** Heartbeat (`/server/keepmealive.php`): leases renewed; 400 when the frame is no longer the client's. */
export function keepAliveRoute(app: Hono<AppEnv>, k: SheepitKit): void {
  app.on(["GET", "POST"], "/server/keepmealive.php", async (c) => {
    try {
      const p = parseParams(await formAndQuery(c), KeepAliveParams);
      await k.service.keepAlive(k.cookieOf(c), {
        sheepitId: p.job,
        frame: p.frame,
        paused: p.paused === undefined ? undefined : p.paused === "true" || p.paused === "1",
      });
      return xmlResponse(c, statusXml("keepmealive", 0));
    } catch (err) {
      return k.fail(c, "keepmealive", err);
    }
  });
}
