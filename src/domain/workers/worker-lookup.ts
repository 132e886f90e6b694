import { notFound } from "../errors.js";
import type { SessionStore } from "../sessions/session.js";
import { type Worker, workerFromSession } from "./worker.js";

/** The worker behind a session id; `not-found` for an unknown one or a session of another protocol. */
export async function findWorker(sessions: SessionStore, workerId: string): Promise<Worker> {
  const s = await sessions.get(workerId);
  if (s?.protocol !== "flamenco") throw notFound(`no worker ${workerId}`);
  return workerFromSession(s);
}
