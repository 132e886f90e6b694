import { Hono } from "hono";
import type { Farm } from "../../src/app/farm.js";
import { workerStatusV3 } from "./wire.js";

/** `GET /api/v3/worker-mgt/workers`: every worker (whichever dialect it registered through). */
export function workerMgtRoutesV3(farm: Farm) {
  const app = new Hono();
  app.get("/worker-mgt/workers", async (c) => {
    const workers = await farm.workers.list();
    return c.json({
      workers: workers.map((w) => ({
        id: w.id,
        name: w.nickname,
        status: workerStatusV3(w.status),
        ...(w.request ? { status_change: { status: workerStatusV3(w.request.status), is_lazy: w.request.lazy } } : {}),
        last_seen: new Date(w.lastSeen).toISOString(),
        version: w.software,
      })),
    });
  });
  return app;
}
