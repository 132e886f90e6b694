/**
 * The one error vocabulary of the farm. The domain throws `FarmError`s; each protocol adapter maps
 * the `kind` to its own answer (Flamenco: HTTP status + `Error` JSON; SheepIt: a status code in
 * `text/xml`). Nothing outside the adapters knows about HTTP or XML.
 */
export type FarmErrorKind =
  /** The request is malformed or a value is out of range; `field` names it. */
  | "invalid"
  /** Credentials are missing. */
  | "unauthenticated"
  /** Credentials are wrong, or the caller may not do this. */
  | "forbidden"
  /** The thing asked for does not exist. */
  | "not-found"
  /** The caller does not hold what it acts on (a task of another worker, a frame it lost). */
  | "not-yours"
  /** The caller's state does not allow this now (a worker that is not awake asks for work). */
  | "wrong-state"
  /** A requested change is not valid from the current state (job status transitions). */
  | "invalid-transition"
  /** The caller must first change state (a worker with a pending status request). */
  | "state-change-pending"
  /** The farm does not hand out work now (maintenance, overload). */
  | "unavailable"
  /** An upload or archive exceeds its configured cap. */
  | "too-large"
  /** Storage failed while writing or reading farm files. */
  | "storage";

export class FarmError extends Error {
  override name = "FarmError";
  constructor(
    readonly kind: FarmErrorKind,
    message: string,
    readonly details: { field?: string; [key: string]: unknown } = {},
  ) {
    super(message);
  }
}

export const invalid = (field: string, message: string) => new FarmError("invalid", message, { field });
export const notFound = (message: string) => new FarmError("not-found", message);

export function isFarmError(err: unknown, kind?: FarmErrorKind): err is FarmError {
  return err instanceof FarmError && (kind === undefined || err.kind === kind);
}
