import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { Farm } from "../../src/app/farm.js";
import type { FarmEvent } from "../../src/domain/events.js";
import { errorJson } from "../flamenco/errors.js";

/** A comment line this often keeps proxies and the browser from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;

/** The SSE text of an event, made once however many streams send it (they share the object). */
const texts = new WeakMap<FarmEvent, string>();
function sseText(e: FarmEvent): string {
  let t = texts.get(e);
  if (t === undefined) {
    t = `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
    texts.set(e, t);
  }
  return t;
}

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
          if (!open || batch.length === 0) continue;
          // One write for all that came meanwhile, each event's text made once for every stream.
          await stream.write(batch.map(sseText).join(""));
        }
      } finally {
        clearInterval(beat);
        unsubscribe();
      }
    });
  });
  return app;
}
