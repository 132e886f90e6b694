import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { Farm } from "../../src/app/farm.js";
import type { FarmEvent } from "../../src/domain/events.js";
import { errorJson } from "../flamenco/errors.js";

/** A comment line this often keeps proxies and the browser from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;

/**
 * `GET /api/dashboard/events`: the farm's change events as server-sent events. Every stream of
 * the process listens on the process's one Redis subscriber (RedisFarmEvents), so a change made
 * through any gateway process reaches every browser. `hello` first, then `job`, `job-deleted`,
 * `client`; `ping` every 15 s. The browser reconnects by itself and reads the views again.
 */
export function dashboardEventRoutes(farm: Farm) {
  const app = new Hono();
  app.get("/dashboard/events", async (c) => {
    let pending: FarmEvent[] = [];
    let wake: (() => void) | null = null;
    let unsubscribe: () => void;
    try {
      unsubscribe = await farm.events.subscribe((e) => {
        pending.push(e);
        wake?.();
      });
    } catch {
      return errorJson(c, 503, "the farm's Redis does not answer; the event stream cannot start, try again");
    }
    c.header("Cache-Control", "no-store");
    c.header("X-Accel-Buffering", "no");
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      const beat = setInterval(() => {
        pending.push({ type: "ping" } as unknown as FarmEvent);
        wake?.();
      }, HEARTBEAT_MS);
      try {
        await stream.writeSSE({ event: "hello", data: JSON.stringify({ heartbeatMs: HEARTBEAT_MS }), retry: 1000 });
        while (open) {
          if (pending.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          const batch = pending;
          pending = [];
          for (const e of batch) await stream.writeSSE({ event: e.type, data: JSON.stringify(e) });
        }
      } finally {
        clearInterval(beat);
        unsubscribe();
      }
    });
  });
  return app;
}
