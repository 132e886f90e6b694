import { Hono } from "hono";
import { dashboardOf } from "../../src/app/dashboard.js";
import type { Farm } from "../../src/app/farm.js";
import { errorJson } from "../flamenco/errors.js";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A job's frames for the dashboard: states one letter each, and previews of rendered frames. */
export function dashboardJobRoutes(farm: Farm) {
  const app = new Hono();
  const d = dashboardOf(farm);
  app.get("/dashboard/jobs/:job_id/frames", async (c) => {
    const id = c.req.param("job_id");
    if (!UUID_RE.test(id)) return errorJson(c, 404, `no job ${id.slice(0, 80)}`);
    c.header("Cache-Control", "no-store");
    return c.json(await d.frames(id));
  });
  app.get("/dashboard/jobs/:job_id/frames/:index/thumbnail", async (c) => {
    const id = c.req.param("job_id");
    const index = Number(c.req.param("index"));
    if (!UUID_RE.test(id)) return errorJson(c, 404, `no job ${id.slice(0, 80)}`);
    if (!Number.isInteger(index) || index < 0) return errorJson(c, 400, "index: a frame index (0 or more)");
    const size = c.req.query("size") === "large" ? "large" : "small";
    const image = await d.thumbnail(id, index, size);
    if (!image)
      return errorJson(c, 404, `frame ${index} of job ${id} has no preview (not rendered yet, or not readable)`);
    return c.body(new Uint8Array(image), 200, { "Content-Type": "image/jpeg", "Cache-Control": "private, max-age=5" });
  });
  return app;
}
