import type { Context } from "hono";
import { FarmError } from "../../src/domain/errors.js";
import { errorJson, farmErrorResponse } from "../flamenco/errors.js";

/**
 * Flamenco 3's answers to the domain's errors: the 2022 mapping (`Error` JSON by kind, 403
 * `SecurityError`), plus what 3.x adds: 412 for a stale `type_etag`, 429 for a worker sending
 * previews too often.
 */
export function v3ErrorResponse(c: Context, err: unknown) {
  if (err instanceof FarmError) {
    if (err.kind === "invalid" && err.details.staleEtag === true) return errorJson(c, 412, err.message);
    if (err.kind === "unavailable" && err.details.rateLimited === true) return errorJson(c, 429, err.message);
  }
  return farmErrorResponse(c, err);
}
