import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";

/**
 * True when the client went away before its request was answered: it closed the connection
 * mid-body or before the answer. Such requests are logged as aborted, not as server errors.
 */
export function clientAborted(c: Context): boolean {
  const env = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
  const incoming = env?.incoming;
  // In process (no Node request behind it) the Request's signal tells. Behind @hono/node-server
  // the Node request does, without `signal` (which makes an AbortController for every request).
  if (!incoming) return c.req.raw.signal?.aborted === true;
  if (incoming.readableAborted || incoming.errored) return true;
  return incoming.socket?.destroyed === true && !env?.outgoing?.writableFinished;
}
