import type { Hono } from "hono";
import { ValidateStatus, ValidationParams } from "../../../contracts/sheepit/index.js";
import type { AppEnv } from "../../../src/app/http-env.js";
import { VALIDATION_PATH } from "../../../src/app/render-clients.js";
import { FarmError } from "../../../src/domain/errors.js";
import { readMultipart } from "../multipart.js";
import { parseParams, queryParams } from "../params.js";
import type { SheepitKit } from "../route-kit.js";
import { statusXml, xmlResponse } from "../xml.js";

/** Frames back (the validation URL, `/server/send_frame.php`): the upload streamed to disk, then accepted. */
export function sendFrameRoute(app: Hono<AppEnv>, k: SheepitKit): void {
  app.post(VALIDATION_PATH, async (c) => {
    let tmp: string | undefined;
    try {
      const q = queryParams(c);
      for (const key of ["job", "frame", "token"]) {
        if (!q[key]) throw new FarmError("invalid", `${key} is missing`, { field: key });
      }
      const p = parseParams(q, ValidationParams);
      const ticket = await k.service.uploadTicket(k.cookieOf(c), { sheepitId: p.job, frame: p.frame, token: p.token });
      c.set("sessionId", ticket.session.id);
      c.set("jobId", ticket.job.id);
      const max = k.farm.config.UPLOAD_MAX;
      if (Number(c.req.header("content-length") ?? "0") > max + 64 * 1024) {
        throw new FarmError("too-large", `the upload exceeds UPLOAD_MAX (${max} bytes)`);
      }
      tmp = await k.frames.tempFor(ticket.target);
      const mp = await readMultipart(c, { field: "file", sink: { path: tmp }, maxBytes: max });
      if (mp.truncated) throw new FarmError("too-large", `the upload exceeds UPLOAD_MAX (${max} bytes)`);
      if (!mp.gotFile) throw new FarmError("invalid", "the multipart part `file` is missing", { field: "file" });
      // acceptFrame consumes the file (placed or discarded), whatever it answers.
      const file = tmp;
      tmp = undefined;
      await k.service.acceptFrame(ticket, file, { renderSeconds: p.rendertime });
      return xmlResponse(c, statusXml("jobvalidate", ValidateStatus.ok));
    } catch (err) {
      return k.fail(c, "jobvalidate", err);
    } finally {
      if (tmp) await k.frames.discard(tmp);
    }
  });
}
