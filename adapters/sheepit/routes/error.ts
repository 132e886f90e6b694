import type { Hono } from "hono";
import { ErrorParams, ReportStatus } from "../../../contracts/sheepit/index.js";
import type { AppEnv } from "../../../src/app/http-env.js";
import { readMultipart } from "../multipart.js";
import { formAndQuery, parseParams } from "../params.js";
import type { SheepitKit } from "../route-kit.js";
import { statusXml, xmlResponse } from "../xml.js";

/** Error reports (`/server/error.php?type=N`, the log as a multipart part). */
export function errorRoute(app: Hono<AppEnv>, k: SheepitKit): void {
  app.on(["GET", "POST"], "/server/error.php", async (c) => {
    try {
      const raw = await formAndQuery(c);
      const mp = await readMultipart(c, { field: "file", sink: "text", maxBytes: 1024 * 1024 });
      const p = parseParams({ ...mp.fields, ...raw }, ErrorParams);
      await k.service.reportError(k.cookieOf(c), {
        type: p.type,
        sheepitId: p.job,
        frame: p.frame,
        renderSeconds: p.render_time,
        memoryKb: p.memoryused,
        log: mp.text,
      });
      return xmlResponse(c, statusXml("error", ReportStatus.ok));
    } catch (err) {
      return k.fail(c, "error", err);
    }
  });
}
