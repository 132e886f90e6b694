/**
 * A job's frames as one letter each, in frame-list order: the compact form the dashboard draws its
 * frame grid from (100,000 frames are 100,000 bytes, not objects).
 * `q` queued (never handed out, or given back), `a` active (held under a lease), `d` done,
 * `r` failed once and queued again, `f` failed for good.
 */
export type FrameLetter = "q" | "a" | "d" | "r" | "f";

export interface EncodedFrameStates {
  states: string;
  counts: Record<FrameLetter, number>;
  /** Index of the frame completed last, or -1. */
  lastDone: number;
}

/**
 * Encodes the scheduler's frame-state records (`index → "a|…"`, `"c|session|lease|ms"`, `"s…"`,
 * `"f…"`; frames without a record are queued) into one letter per frame.
 */
export function encodeFrameStates(frameCount: number, records: Record<string, string>): EncodedFrameStates {
  const letters = new Uint8Array(frameCount).fill(113); // "q"
  const counts: Record<FrameLetter, number> = { q: frameCount, a: 0, d: 0, r: 0, f: 0 };
  let lastDone = -1;
  let lastDoneAt = -1;
  for (const [key, raw] of Object.entries(records)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= frameCount) continue;
    const letter = letterOf(raw);
    if (letter === "q") continue;
    letters[i] = letter.charCodeAt(0);
    counts.q--;
    counts[letter]++;
    if (letter === "d") {
      const at = Number(raw.slice(raw.lastIndexOf("|") + 1)) || 0;
      if (at >= lastDoneAt) {
        lastDoneAt = at;
        lastDone = i;
      }
    }
  }
  return { states: Buffer.from(letters).toString("latin1"), counts, lastDone };
}

function letterOf(raw: string): FrameLetter {
  switch (raw[0]) {
    case "a":
      return "a";
    case "c":
      return "d";
    case "s":
      return "r";
    case "f":
      return "f";
    default:
      return "q";
  }
}
