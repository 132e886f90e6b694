import { Hono } from "hono";
import { JobIdParam } from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { flamencoV3Services } from "../../src/app/flamenco-v3.js";
import type { LastRenderedImage } from "../../src/domain/jobs/last-rendered.js";
import { errorJson } from "../flamenco/errors.js";
import { params } from "../flamenco/validate.js";

function info(img: LastRenderedImage) {
  return {
    base: `/api/v3/jobs/${img.jobId}/last-rendered`,
    suffixes: [img.contentType === "image/png" ? "last-rendered.png" : "last-rendered.jpg"],
  };
}

/**
 * Last-rendered images: `GET /api/v3/jobs/{id}/last-rendered` and `GET /api/v3/jobs/last-rendered`
 * (`JobLastRenderedImageInfo`, 204 when there is none); the image itself at `{base}/{suffix}`. `base` is
 * host-relative, as the 3.x Manager answers and the schema's description says.
 */
export function lastRenderedRoutes(farm: Farm) {
  const app = new Hono();
  const images = () => flamencoV3Services(farm).lastRendered;

  app.get("/jobs/last-rendered", async (c) => {
    const img = await images().latest();
    return img ? c.json(info(img)) : c.body(null, 204);
  });

  app.get("/jobs/:job_id/last-rendered", async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    await farm.jobs.get(job_id);
    const img = await images().info(job_id);
    return img ? c.json(info(img)) : c.body(null, 204);
  });

  app.get("/jobs/:job_id/last-rendered/:file", async (c) => {
    const { job_id } = params(c.req.param(), JobIdParam);
    const img = await images().info(job_id);
    const bytes = img && c.req.param("file") === info(img).suffixes[0] ? await images().read(job_id) : null;
    if (!img || !bytes) return errorJson(c, 404, `job ${job_id} has no such last-rendered image`);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": img.contentType,
      "Content-Length": String(bytes.byteLength),
      "Cache-Control": "no-store",
    });
  });

  return app;
}
