import { FarmError } from "../errors.js";

/** A refusal with the reason SheepIt's routes map to an endpoint's status code. */
export const reason = (kind: FarmError["kind"], message: string, why: string) =>
  new FarmError(kind, message, { reason: why });
/** No live session behind the cookie: the client must log in again. */
export const sessionDead = () => reason("unauthenticated", "no live session; log in again", "session-dead");
/** The session or its user is disabled. */
export const sessionDisabled = () => reason("forbidden", "this session is disabled", "session-disabled");
