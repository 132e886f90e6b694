import { notFound } from "../errors.js";
import type { Session, SessionStore } from "../sessions/session.js";
import { type Worker, workerFromSession } from "./worker.js";

/** The worker behind a session id; `not-found` for an unknown one or a session of another protocol. */
export async function findWorker(sessions: SessionStore, workerId: string): Promise<Worker> {
  return workerOf(workerId, await sessions.get(workerId));
}

/** The worker a session read is; `not-found` for none or a session of another protocol. */
export function workerOf(workerId: string, s: Session | null): Worker {
  if (s?.protocol !== "flamenco") throw notFound(`no worker ${workerId}`);
  return workerFromSession(s);
}
