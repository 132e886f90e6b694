/**
 * All-black frames (issue 9.7). Fades, title cards and night shots really are black, and a 301
 * answer makes the real client treat its session as disabled; but a broken GPU renders black too.
 * So a black upload is never refused for being black alone; it is verified by a second client:
 *
 * 1. The first black upload of a frame is answered 0 (success, no points): its file is dropped, the
 *    frame goes back in line uncharged, barred from that session, and the session is its candidate.
 * 2. The next upload of the frame comes from another client:
 *    - black too: the frame really is black; it is accepted (completed with that file);
 *    - not black: the first client's black frame was broken; a broken frame is counted against
 *      the first session (SHEEPIT_BROKEN_FRAMES in a row disable it), the second's file is kept.
 *
 * A farm with a single client never finishes a black frame: it waits for a second machine.
 */

/** Where black-frame candidates live (adapters/redis/redis-black-frames.ts). */
export interface BlackFrameStore {
  /** The session whose black upload of the frame waits for a second opinion, or null. */
  candidate(jobId: string, index: number): Promise<string | null>;
  /** Records the session as the frame's candidate and bars it from the frame, uncharged (atomic). */
  hold(jobId: string, index: number, sessionId: string): Promise<void>;
  clear(jobId: string, index: number): Promise<void>;
}

export type BlackVerdict =
  /** First black upload: answer success, drop the file, give the frame back for a second client. */
  | { kind: "hold" }
  /** Accept the upload; when `blame` is set, that session's earlier black upload was broken. */
  | { kind: "accept"; blame?: string };

/** What to do with an upload of frame `index` by `sessionId`, `black` as decoded. */
export async function blackVerdict(
  store: BlackFrameStore,
  p: { jobId: string; index: number; sessionId: string; black: boolean | undefined },
): Promise<BlackVerdict> {
  const first = await store.candidate(p.jobId, p.index);
  if (p.black === true && (first === null || first === p.sessionId)) {
    await store.hold(p.jobId, p.index, p.sessionId);
    return { kind: "hold" };
  }
  if (first === null) return { kind: "accept" };
  await store.clear(p.jobId, p.index);
  // Blame only on evidence: pixels that could not be checked (black undefined) blame nobody.
  return p.black === false ? { kind: "accept", blame: first } : { kind: "accept" };
}
