import { useEffect, useState } from "preact/hooks";
import { api, type FrameStates } from "./api";
import { onFarmEvent } from "./live";

export type Letter = "q" | "a" | "d" | "r" | "f";

/** A change of some frames, as `job` events carry it (src/domain/events.ts). */
export interface FrameChange {
  state: Exclude<Letter, "q">;
  indices: number[];
}

const CODE: Record<Letter, number> = { q: 113, a: 97, d: 100, r: 114, f: 102 };
const LETTER: Record<number, Letter> = { 113: "q", 97: "a", 100: "d", 114: "r", 102: "f" };

/**
 * A job's frame states kept in the page: read whole once (and after a reconnect, or an event that
 * does not say which frames changed), then changed cell by cell from the frame changes each `job`
 * event carries. So an event costs the page the frames it names, not the job's frame count.
 */
export class LiveFrames {
  frameCount = 0;
  runs: Array<[number, number]> = [];
  states = new Uint8Array(0);
  counts: Record<Letter, number> = { q: 0, a: 0, d: 0, r: 0, f: 0 };
  lastDone = -1;
  /** Whole reads of the states so far (shown on the grid's canvas as `data-reads`). */
  reads = 0;
  /**
   * Told at once when a whole read is wanted, done, or drawn, so the page shows it the moment it
   * changes (`data-reads`, `data-reading`), not at the next render: tests wait on it.
   */
  onStatus: (() => void) | null = null;
  private readingNow = false;
  /** Cells changed since the grid last drew them; "all" after a whole read. */
  private dirty: Set<number> | "all" = "all";

  /** A whole read is waiting or under way. */
  get reading(): boolean {
    return this.readingNow;
  }

  set reading(v: boolean) {
    if (v === this.readingNow) return;
    this.readingNow = v;
    this.onStatus?.();
  }

  /** A whole read is waiting, under way, or read but not drawn yet. */
  get busy(): boolean {
    return this.readingNow || this.dirty === "all";
  }

  constructor(readonly jobId: string) {}

  letter(i: number): Letter {
    return LETTER[this.states[i] ?? 113] ?? "q";
  }

  load(s: FrameStates): void {
    this.frameCount = s.frameCount;
    this.runs = s.runs;
    const states = new Uint8Array(s.frameCount);
    for (let i = 0; i < s.frameCount; i++) states[i] = s.states.charCodeAt(i);
    this.states = states;
    this.counts = { ...s.counts };
    this.lastDone = s.lastDone;
    this.dirty = "all";
    this.reads++;
    this.onStatus?.();
  }

  apply(changes: FrameChange[]): void {
    for (const c of changes) {
      const to = CODE[c.state];
      if (to === undefined) continue;
      for (const i of c.indices) {
        if (!Number.isInteger(i) || i < 0 || i >= this.frameCount) continue;
        const from = this.letter(i);
        // A claim heard after the frame's completion (events of two gateways) does not undo it.
        if (from === c.state || (c.state === "a" && (from === "d" || from === "f"))) continue;
        this.states[i] = to;
        this.counts[from]--;
        this.counts[c.state]++;
        if (c.state === "d") this.lastDone = i;
        if (this.dirty !== "all") this.dirty.add(i);
      }
    }
  }

  /** The cells to draw now (and forgets them). */
  takeDirty(): number[] | "all" {
    const d = this.dirty;
    this.dirty = new Set();
    return d === "all" ? "all" : [...d];
  }

  /** Draw everything on the next frame (the grid's geometry or the picked cell changed). */
  invalidate(): void {
    this.dirty = "all";
  }
}

/**
 * The job's LiveFrames and a version that grows (at most every 50 ms) when they change. A whole
 * read happens at the start, after a reconnect and after a `job` event without frame changes
 * (status changes, requeues, leases that ran out), at most every 300 ms; frame changes heard while
 * it is under way are applied again on top of what it answers.
 */
export function useLiveFrames(jobId: string): { frames: LiveFrames | null; version: number; error: string } {
  const [state, setState] = useState<{ frames: LiveFrames | null; version: number; error: string }>({
    frames: null,
    version: 0,
    error: "",
  });
  useEffect(() => {
    const store = new LiveFrames(jobId);
    let alive = true;
    let loaded = false;
    let version = 0;
    let bump: ReturnType<typeof setTimeout> | null = null;
    const changed = () => {
      if (bump || !alive) return;
      bump = setTimeout(() => {
        bump = null;
        if (alive) setState({ frames: loaded ? store : null, version: ++version, error: "" });
      }, 50);
    };
    let reading = false;
    let again = false;
    let heard: FrameChange[][] | null = null;
    let wait: ReturnType<typeof setTimeout> | null = null;
    const read = async () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      store.reading = true;
      heard = [];
      try {
        const s = await api<FrameStates>(`/api/dashboard/jobs/${jobId}/frames`);
        if (!alive) return;
        store.load(s);
        for (const c of heard) store.apply(c);
        loaded = true;
        changed();
      } catch (err) {
        if (alive) setState((prev) => ({ ...prev, error: (err as Error).message }));
      } finally {
        reading = false;
        heard = null;
        store.reading = again;
        if (again && alive) {
          again = false;
          soon();
        }
        changed();
      }
    };
    const soon = () => {
      store.reading = true;
      changed();
      if (wait) return;
      wait = setTimeout(() => {
        wait = null;
        void read();
      }, 300);
    };
    void read();
    const off = onFarmEvent((e) => {
      if (e.type === "reconnected") return soon();
      if (e.type !== "job" || e.jobId !== jobId) return;
      const frames = (e as { frames?: FrameChange[] }).frames;
      if (!frames) return soon();
      heard?.push(frames);
      if (loaded) {
        store.apply(frames);
        changed();
      }
    });
    return () => {
      alive = false;
      off();
      if (bump) clearTimeout(bump);
      if (wait) clearTimeout(wait);
    };
  }, [jobId]);
  return state;
}
