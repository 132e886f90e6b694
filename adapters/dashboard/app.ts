import { Hono } from "hono";
import type { Farm } from "../../src/app/farm.js";
import { dashboardEventRoutes } from "./events.js";
import { dashboardFarmRoutes } from "./farm-views.js";
import { dashboardJobRoutes } from "./job-views.js";

/** The dashboard's API under `/api/dashboard` (farm control, guarded like the rest of `/api`). */
export function dashboardRoutes(farm: Farm) {
  const app = new Hono();
  app.route("/", dashboardEventRoutes(farm));
  app.route("/", dashboardFarmRoutes(farm));
  app.route("/", dashboardJobRoutes(farm));
  return app;
}
