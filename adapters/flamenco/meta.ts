import { Hono } from "hono";
import { FlamencoVersion } from "../../contracts/flamenco/index.js";
import { version } from "../../src/app/version.js";

/** `GET /api/version`: workers check they talk to a Flamenco-compatible Manager. */
export function metaRoutes() {
  const app = new Hono();
  app.get("/version", (c) => c.json(FlamencoVersion.parse({ name: "Bellwether", version })));
  return app;
}
