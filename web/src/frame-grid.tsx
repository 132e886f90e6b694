import { useEffect, useRef, useState } from "preact/hooks";
import { frameAt } from "./api";
import { STATE_COLOURS, STATE_NAMES } from "./format";
import type { LiveFrames } from "./live-frames";

const RGB: Record<string, [number, number, number]> = Object.fromEntries(
  Object.entries(STATE_COLOURS).map(([k, hex]) => [
    k,
    [Number.parseInt(hex.slice(1, 3), 16), Number.parseInt(hex.slice(3, 5), 16), Number.parseInt(hex.slice(5, 7), 16)],
  ]),
);

/** Cell size in px so `n` cells fill about `width` × `maxHeight` (1 px cells for very large jobs). */
function cellSize(n: number, width: number, maxHeight: number): number {
  if (n === 0) return 16;
  const fit = Math.floor(Math.sqrt((width * maxHeight) / n));
  return Math.max(1, Math.min(32, fit));
}

/** `data-reads`: whole reads so far; `data-reading`: "yes" while one is waiting, under way or not drawn yet. */
function showStatus(canvas: HTMLCanvasElement, frames: LiveFrames): void {
  canvas.dataset.reads = String(frames.reads);
  canvas.dataset.reading = frames.busy ? "yes" : "no";
}

/**
 * Every frame of the job as one cell on a canvas, coloured by state. The first draw (and one after
 * a whole read of the states, or a change of size or of the picked cell) fills one ImageData, no
 * element per frame, so a 100,000-frame job draws in a few milliseconds; after that only the cells
 * that an event changed are drawn again.
 */
export function FrameGrid(props: {
  frames: LiveFrames;
  version: number;
  onPick: (index: number) => void;
  picked: number;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const wrap = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(880);
  const fullDraws = useRef(0);
  const drawn = useRef("");
  const [hover, setHover] = useState("");
  const { frames } = props;
  // Drawn at the width it is shown at (a scaled canvas blurs or drops the gaps between cells).
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(100, Math.floor(el.clientWidth)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const n = frames.frameCount;
  const cell = cellSize(n, width, 320);
  const gap = cell >= 6 ? 1 : 0;
  const perRow = Math.max(1, Math.floor(width / cell));
  const rows = Math.ceil(n / perRow);

  // Whole reads wanted and done show on the canvas the moment they happen.
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    frames.onStatus = () => showStatus(canvas, frames);
    frames.onStatus();
    return () => {
      frames.onStatus = null;
    };
  }, [frames]);

  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    const w = perRow * cell;
    const h = Math.max(1, rows * cell);
    const size = cell - gap;
    const geometry = `${frames.jobId}/${n}/${cell}/${perRow}/${props.picked}`;
    if (drawn.current !== geometry) frames.invalidate();
    drawn.current = geometry;
    const dirty = frames.takeDirty();
    if (dirty === "all") {
      canvas.width = w;
      canvas.height = h;
      const img = ctx.createImageData(w, h);
      const px = img.data;
      for (let i = 0; i < n; i++) {
        const [r, g, b] = RGB[frames.letter(i)] ?? [0, 0, 0];
        const x0 = (i % perRow) * cell;
        const y0 = Math.floor(i / perRow) * cell;
        for (let y = 0; y < size; y++) {
          let o = ((y0 + y) * w + x0) * 4;
          for (let x = 0; x < size; x++) {
            px[o] = r;
            px[o + 1] = g;
            px[o + 2] = b;
            px[o + 3] = 255;
            o += 4;
          }
        }
      }
      ctx.putImageData(img, 0, 0);
      fullDraws.current++;
      canvas.dataset.fullDraws = String(fullDraws.current);
    } else {
      for (const i of dirty) {
        ctx.fillStyle = STATE_COLOURS[frames.letter(i)] ?? "#000000";
        ctx.fillRect((i % perRow) * cell, Math.floor(i / perRow) * cell, size, size);
      }
    }
    canvas.dataset.version = String(props.version);
    showStatus(canvas, frames);
    if (props.picked >= 0 && props.picked < n && cell >= 4) {
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 1;
      ctx.strokeRect(
        (props.picked % perRow) * cell + 0.5,
        Math.floor(props.picked / perRow) * cell + 0.5,
        cell - 1,
        cell - 1,
      );
    }
  }, [frames, props.version, cell, perRow, rows, n, gap, props.picked]);

  const indexAt = (e: MouseEvent): number => {
    const canvas = ref.current;
    if (!canvas) return -1;
    const rect = canvas.getBoundingClientRect();
    const x = Math.floor(((e.clientX - rect.left) * canvas.width) / rect.width / cell);
    const y = Math.floor(((e.clientY - rect.top) * canvas.height) / rect.height / cell);
    const i = y * perRow + x;
    return x < perRow && i >= 0 && i < n ? i : -1;
  };

  return (
    <div class="grid-wrap" ref={wrap}>
      <canvas
        ref={ref}
        class="frame-grid"
        data-testid="frame-grid"
        data-cell={cell}
        data-per-row={perRow}
        data-counts={JSON.stringify(frames.counts)}
        onMouseMove={(e) => {
          const i = indexAt(e);
          setHover(i < 0 ? "" : `frame ${frameAt(frames.runs, i)}: ${STATE_NAMES[frames.letter(i)]}`);
        }}
        onMouseLeave={() => setHover("")}
        onClick={(e) => {
          const i = indexAt(e);
          if (i >= 0) props.onPick(i);
        }}
      />
      <div class="legend">
        {Object.keys(STATE_COLOURS).map((k) => (
          <span key={k}>
            <i style={{ background: STATE_COLOURS[k] }} /> {STATE_NAMES[k]} {frames.counts[k as "q"]}
          </span>
        ))}
        <span class="hover">{hover}</span>
      </div>
    </div>
  );
}
