import type { MiddlewareHandler } from "hono";
import type { Farm } from "../../src/app/farm.js";
import { parseBasicAuth } from "../flamenco/worker-auth.js";

/**
 * Worker authentication of Flamenco 3: HTTP Basic with the worker's UUID and secret, checked by
 * the same domain verb as the 2022 API (`WorkerService.authenticate`). Every failure, missing
 * credentials included, is 403 `SecurityError {message}` as the 3.x Manager answers.
 */
export function workerAuthV3(farm: Farm): MiddlewareHandler {
  return async (c, next) => {
    const creds = parseBasicAuth(c.req.header("authorization"));
    if (!creds) {
      return c.json(
        { message: "worker credentials are missing: use HTTP Basic with the worker's UUID and secret" },
        403,
      );
    }
    const id = await farm.workers.authenticate(creds.user, creds.password);
    c.set("sessionId" as never, id as never);
    await next();
  };
}
