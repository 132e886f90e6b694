import type { ClientOrigin } from "../../adapters/http/client-origin.js";
import type { Logger } from "./logger.js";

/** What every request carries through the middleware chain (see server.ts). */
export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    /** The caller's address and base URL (adapters/http/client-origin.ts). */
    clientOrigin: ClientOrigin;
    /** Set by adapters once they know them; they end up in the request's log line. */
    sessionId?: string;
    jobId?: string;
  };
}

/** Which protocol a path belongs to, for logs and metrics. */
export function protocolOf(path: string): "flamenco" | "sheepit" | "ops" {
  if (path.startsWith("/api/")) return "flamenco";
  if (path.startsWith("/server/") || path.startsWith("/account.php")) return "sheepit";
  return "ops";
}
