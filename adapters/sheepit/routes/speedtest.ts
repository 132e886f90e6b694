import type { Hono } from "hono";
import { ReportStatus } from "../../../contracts/sheepit/index.js";
import type { AppEnv } from "../../../src/app/http-env.js";
import { readText } from "../params.js";
import type { SheepitKit } from "../route-kit.js";
import { parseSpeedtest, statusXml, xmlResponse } from "../xml.js";

/** Speedtest results (`/server/speedtest.php`, a `<speedtest>` body). */
export function speedtestRoute(app: Hono<AppEnv>, k: SheepitKit): void {
  app.post("/server/speedtest.php", async (c) => {
    try {
      const body = parseSpeedtest(await readText(c));
      await k.service.recordSpeedtest(k.cookieOf(c), body.results);
      return xmlResponse(c, statusXml("speedtest", ReportStatus.ok));
    } catch (err) {
      return k.fail(c, "speedtest", err);
    }
  });
}
