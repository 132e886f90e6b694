import { Hono } from "hono";
import { FlamencoVersion, ManagerConfiguration } from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { version } from "../../src/app/version.js";

/**
 * What a 3.x worker and add-on read first: `GET /api/v3/version` and `GET /api/v3/configuration`
 * (the shared storage is STORAGE_ROOT; no Shaman: the blend file must be on shared storage).
 */
export function metaRoutesV3(farm: Farm) {
  const app = new Hono();
  app.get("/version", (c) => c.json(FlamencoVersion.parse({ name: "Bellwether", version })));
  app.get("/configuration", (c) =>
    c.json(
      ManagerConfiguration.parse({ storageLocation: farm.config.storageRoot, shamanEnabled: false, isFirstRun: false }),
    ),
  );
  return app;
}
