import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { FarmError, type FarmErrorKind } from "../../src/domain/errors.js";

/** The domain's error kinds as Flamenco answers them: HTTP status with an `Error` body. */
export const flamencoStatus: Record<FarmErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  "not-found": 404,
  "not-yours": 409,
  "wrong-state": 409,
  "invalid-transition": 422,
  "state-change-pending": 423,
  unavailable: 503,
  "too-large": 413,
  storage: 500,
};

/** Answers an `Error` JSON. */
export function errorJson(c: Context, status: ContentfulStatusCode, message: string) {
  return c.json({ code: status, message }, status);
}

/** Maps any thrown error to Flamenco's answer; unknown errors are 500 with a generic message. */
export function farmErrorResponse(c: Context, err: unknown) {
  if (err instanceof FarmError) {
    const status = flamencoStatus[err.kind];
    if (err.kind === "forbidden") return c.json({ message: err.message }, 403);
    // A worker that must change status first gets `WorkerStateChange`, as the spec's 423 says.
    if (err.kind === "state-change-pending" && typeof err.details.statusRequested === "string") {
      return c.json({ status_requested: err.details.statusRequested }, 423);
    }
    return errorJson(c, status, err.message);
  }
  return errorJson(c, 500, "internal error; the gateway log has the details");
}

/** One line naming the offending field of a zod failure. */
export function describeZodError(err: ZodError, what = "body"): string {
  const issue = err.issues[0];
  if (!issue) return `${what} is invalid`;
  const where = issue.path.length > 0 ? issue.path.join(".") : what;
  return `${where}: ${issue.message}`;
}
