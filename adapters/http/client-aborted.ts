import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";

/**
 * True when the client went away before its request was answered: it closed the connection
 * mid-body or before the answer. Such requests are logged as aborted, not as server errors.
 */
export function clientAborted(c: Context): boolean {
  if (c.req.raw.signal?.aborted) return true;
  const env = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
  const incoming = env?.incoming;
  if (!incoming) return false;
  if (incoming.readableAborted) return true;
  return incoming.socket?.destroyed === true && !env?.outgoing?.writableFinished;
}
