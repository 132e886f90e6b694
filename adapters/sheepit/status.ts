import {
  ConfigStatus,
  JobRequestStatus,
  KeepAliveStatus,
  ReportStatus,
  ValidateStatus,
} from "../../contracts/sheepit/index.js";
import { FarmError } from "../../src/domain/errors.js";

/**
 * The domain's errors as each SheepIt endpoint answers them (a status code in the endpoint's XML
 * root element). `reason` in a FarmError's details tells apart errors of the same kind.
 */
export type Endpoint = "config" | "jobrequest" | "jobvalidate" | "keepmealive" | "error" | "speedtest";

const why = (err: FarmError) => String(err.details.reason ?? "");

const mappers: Record<Endpoint, (err: FarmError) => number> = {
  config(err) {
    if (why(err) === "client-too-old") return ConfigStatus.tooOld;
    if (err.kind === "invalid") return ConfigStatus.missingParameter;
    return ConfigStatus.authFailed;
  },
  jobrequest(err) {
    switch (why(err)) {
      case "session-dead":
        return JobRequestStatus.sessionDead;
      case "session-disabled":
        return JobRequestStatus.sessionDisabled;
      case "no-right":
        return JobRequestStatus.noRight;
      case "no-renderer":
        return JobRequestStatus.noRenderer;
      case "maintenance":
        return JobRequestStatus.maintenance;
      case "overloaded":
        return JobRequestStatus.overloaded;
    }
    if (err.kind === "unauthenticated") return JobRequestStatus.sessionDead;
    if (err.kind === "unavailable") return JobRequestStatus.overloaded;
    if (err.kind === "storage") return JobRequestStatus.serverError;
    return JobRequestStatus.badRequest;
  },
  jobvalidate(err) {
    if (why(err) === "not-an-image") return ValidateStatus.notAnImage;
    if (why(err) === "broken-frame") return ValidateStatus.brokenFrame;
    if (err.kind === "invalid") return ValidateStatus.missingParameter;
    if (err.kind === "unauthenticated" || err.kind === "forbidden") return ValidateStatus.sessionDisabled;
    return ValidateStatus.uploadFailed;
  },
  keepmealive: () => KeepAliveStatus.stop,
  error: (err) => (err.kind === "unauthenticated" ? ReportStatus.ok : ReportStatus.badRequest),
  speedtest: () => ReportStatus.badRequest,
};

/** The status code of `err` for `endpoint`; null when `err` is not a FarmError (an internal failure). */
export function sheepitStatus(endpoint: Endpoint, err: unknown): number | null {
  return err instanceof FarmError ? mappers[endpoint](err) : null;
}
