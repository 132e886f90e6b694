import { invalid } from "../errors.js";

/**
 * A job's frames as Flamenco writes them: comma-separated parts, each `N` or `A-B` (inclusive;
 * `A..B` too), whitespace allowed around numbers and separators but never inside a number,
 * de-duplicated and sorted. Kept as sorted, disjoint, inclusive runs so a million frames cost a
 * few numbers, with O(log runs) lookups by index.
 */
export class FrameList {
  /** Runs `[first, last]`, sorted, disjoint and not adjacent. */
  readonly runs: ReadonlyArray<readonly [number, number]>;
  /** `offsets[k]` is the index of `runs[k][0]`. */
  private readonly offsets: number[];
  readonly length: number;

  constructor(runs: ReadonlyArray<readonly [number, number]>) {
    this.runs = runs;
    this.offsets = [];
    let n = 0;
    for (const [a, b] of runs) {
      this.offsets.push(n);
      n += b - a + 1;
    }
    this.length = n;
  }

  /** Parses a frame range; `field` names the setting in the error. */
  static parse(spec: string, field = "frames", maxFrames = Number.MAX_SAFE_INTEGER): FrameList {
    // Whitespace only around numbers and separators: "1 - 10 , 20" is fine, "1 10" is not 110.
    const parts = spec.split(",");
    const raw: Array<[number, number]> = [];
    let total = 0;
    for (const part of parts) {
      const m = /^\s*(-?\d+)\s*(?:(?:-|\.\.)\s*(-?\d+)\s*)?$/.exec(part);
      if (!m) {
        throw invalid(field, `${field}: "${spec}" is not a frame range (use e.g. "1-250", "1,3,5-7" or "10..20")`);
      }
      const a = Number(m[1]);
      const b = m[2] === undefined ? a : Number(m[2]);
      if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || Math.abs(a) > 1_048_574 || Math.abs(b) > 1_048_574) {
        throw invalid(field, `${field}: frame numbers must lie between -1048574 and 1048574 (Blender's range)`);
      }
      if (b < a) throw invalid(field, `${field}: range "${part}" ends before it starts`);
      total += b - a + 1;
      if (total > maxFrames) throw invalid(field, `${field}: more than ${maxFrames} frames`);
      raw.push([a, b]);
    }
    raw.sort((x, y) => x[0] - y[0]);
    const runs: Array<[number, number]> = [];
    for (const [a, b] of raw) {
      const last = runs[runs.length - 1];
      if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
      else runs.push([a, b]);
    }
    return new FrameList(runs);
  }

  /** The frame number at `index` (0-based). */
  frameAt(index: number): number {
    const k = this.runAtIndex(index);
    const run = this.runs[k];
    const offset = this.offsets[k];
    if (run === undefined || offset === undefined || index < 0 || index >= this.length) {
      throw new RangeError(`frame index ${index} outside 0..${this.length - 1}`);
    }
    return run[0] + (index - offset);
  }

  /** The index of `frame`, or -1 when the job does not have that frame. */
  indexOf(frame: number): number {
    let lo = 0;
    let hi = this.runs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const run = this.runs[mid] as readonly [number, number];
      if (frame < run[0]) hi = mid - 1;
      else if (frame > run[1]) lo = mid + 1;
      else return (this.offsets[mid] as number) + (frame - run[0]);
    }
    return -1;
  }

  *frames(): Generator<number> {
    for (const [a, b] of this.runs) for (let f = a; f <= b; f++) yield f;
  }

  /** Flamenco's chunks: consecutive frames of the list, `size` at a time. */
  *chunks(size: number): Generator<number[]> {
    let chunk: number[] = [];
    for (const f of this.frames()) {
      chunk.push(f);
      if (chunk.length === size) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  toString(): string {
    return this.runs.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(",");
  }

  private runAtIndex(index: number): number {
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.offsets[mid] as number) <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * Writes frames the way Flamenco passes them to `--render-frame`: consecutive frames as `A..B`
 * (Blender's syntax), two consecutive frames as `A,B`, others comma-separated.
 */
export function formatFrameArg(frames: readonly number[], rangeSep = ".."): string {
  const sorted = [...frames].sort((a, b) => a - b);
  const out: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    const a = sorted[i] as number;
    const b = sorted[j] as number;
    if (j === i) out.push(`${a}`);
    else if (j === i + 1) out.push(`${a},${b}`);
    else out.push(`${a}${rangeSep}${b}`);
    i = j + 1;
  }
  return out.join(",");
}
