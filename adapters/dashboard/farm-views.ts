import { Hono } from "hono";
import { dashboardOf } from "../../src/app/dashboard.js";
import type { Farm } from "../../src/app/farm.js";

/** The farm at a glance and its clients: `GET /api/dashboard/summary`, `…/clients`, `…/clients/:id`, end a session. */
export function dashboardFarmRoutes(farm: Farm) {
  const app = new Hono();
  const d = dashboardOf(farm);
  app.get("/dashboard/summary", async (c) => c.json(await d.summary()));
  app.get("/dashboard/clients", async (c) => c.json({ clients: await d.clients() }));
  app.get("/dashboard/clients/:session_id", async (c) => c.json(await d.client(c.req.param("session_id"))));
  app.post("/dashboard/clients/:session_id/end", async (c) => {
    await d.endSession(c.req.param("session_id"));
    return c.body(null, 204);
  });
  return app;
}
