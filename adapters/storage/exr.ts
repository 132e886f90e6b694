import type { FileHandle } from "node:fs/promises";
import fs from "node:fs/promises";
import { inflateSync } from "node:zlib";

/**
 * OpenEXR files checked without a native decoder: the header (magic, version flags, the required
 * attributes, channel list, windows) and, for single-part scan-line images, the chunk offset table
 * and every chunk's bounds. Pixels are read for the common lossless compressions (none, RLE, ZIPS,
 * ZIP) to tell an all-black frame; other compressions get the structural checks only.
 * See https://openexr.com/en/latest/OpenEXRFileLayout.html.
 */

export class ExrError extends Error {
  override name = "ExrError";
}

export interface ExrInfo {
  width: number;
  height: number;
  /** Every colour sample is zero; undefined when the pixels were not read. */
  black: boolean | undefined;
}

const MAGIC = 20000630;
const REQUIRED = [
  "channels",
  "compression",
  "dataWindow",
  "displayWindow",
  "lineOrder",
  "pixelAspectRatio",
  "screenWindowCenter",
  "screenWindowWidth",
];
/** Scan lines per chunk by compression (NONE, RLE, ZIPS, ZIP, PIZ, PXR24, B44, B44A, DWAA, DWAB). */
const LINES_PER_CHUNK = [1, 1, 1, 16, 32, 16, 32, 32, 32, 256];
const SAMPLE_BYTES = [4, 2, 4];

interface Channel {
  name: string;
  type: number;
  xSampling: number;
  ySampling: number;
}

export function isExr(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32LE(0) === MAGIC;
}

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, pos);
  return buf.subarray(0, bytesRead);
}

/**
 * Checks an EXR file; throws ExrError naming what is wrong. Given an open handle, reads through it
 * and leaves it open. The first MiB is read once; chunks inside it are not read again.
 */
export async function inspectExr(file: string | FileHandle): Promise<ExrInfo> {
  const fh = typeof file === "string" ? await fs.open(file, "r") : file;
  try {
    const size = (await fh.stat()).size;
    const head = await readAt(fh, 0, Math.min(size, 1 << 20));
    const at = (pos: number, len: number): Promise<Buffer> | Buffer =>
      pos + len <= head.length ? head.subarray(pos, pos + len) : readAt(fh, pos, len);
    if (!isExr(head)) throw new ExrError("not an OpenEXR file (magic number)");
    const version = head.readUInt32LE(4);
    if ((version & 0xff) !== 2) throw new ExrError(`unsupported OpenEXR version ${version & 0xff}`);
    const tiled = (version & 0x200) !== 0;
    const deep = (version & 0x800) !== 0;
    const multipart = (version & 0x1000) !== 0;
    const maxName = version & 0x400 ? 255 : 31;

    let pos = 8;
    const cstr = (): string => {
      const end = head.indexOf(0, pos);
      if (end < 0 || end - pos > maxName) throw new ExrError("header: unterminated or too long name");
      const s = head.toString("latin1", pos, end);
      pos = end + 1;
      return s;
    };
    const attrs = new Map<string, { type: string; value: Buffer }>();
    for (;;) {
      if (pos >= head.length) throw new ExrError("header: truncated");
      if (head[pos] === 0) {
        pos++;
        break;
      }
      const name = cstr();
      const type = cstr();
      if (pos + 4 > head.length) throw new ExrError("header: truncated");
      const len = head.readInt32LE(pos);
      pos += 4;
      if (len < 0 || pos + len > head.length) throw new ExrError(`header: attribute ${name} overruns the header`);
      attrs.set(name, { type, value: head.subarray(pos, pos + len) });
      pos += len;
    }
    for (const name of REQUIRED) if (!attrs.has(name)) throw new ExrError(`header: missing attribute ${name}`);
    if (tiled && !attrs.has("tiles")) throw new ExrError("header: tiled file without a tiles attribute");

    const channels = parseChannels(attrs.get("channels")?.value as Buffer);
    const compression = attrs.get("compression")?.value[0] ?? 255;
    if (compression >= LINES_PER_CHUNK.length) throw new ExrError(`header: unknown compression ${compression}`);
    const dw = attrs.get("dataWindow")?.value as Buffer;
    if (dw.length !== 16) throw new ExrError("header: dataWindow is not a box2i");
    const [xMin, yMin, xMax, yMax] = [dw.readInt32LE(0), dw.readInt32LE(4), dw.readInt32LE(8), dw.readInt32LE(12)];
    const width = xMax - xMin + 1;
    const height = yMax - yMin + 1;
    if (width <= 0 || height <= 0 || width > 1 << 20 || height > 1 << 20) {
      throw new ExrError(`header: bad dataWindow ${width}x${height}`);
    }
    if (tiled || deep || multipart) return { width, height, black: undefined };

    // Single-part scan-line image: the offset table and each chunk's bounds.
    const linesPer = LINES_PER_CHUNK[compression] as number;
    const chunks = Math.ceil(height / linesPer);
    const table = await at(pos, chunks * 8);
    if (table.length !== chunks * 8) throw new ExrError("offset table truncated");
    const tableEnd = pos + chunks * 8;
    const readable = compression <= 3 && channels.every((c) => c.xSampling === 1 && c.ySampling === 1);
    const colour = channels.filter((c) => !/(^|\.)A$/.test(c.name));
    let black: boolean | undefined = readable ? true : undefined;
    const lineBytes = channels.reduce((n, c) => n + width * (SAMPLE_BYTES[c.type] ?? 4), 0);
    for (let k = 0; k < chunks; k++) {
      const off = Number(table.readBigUInt64LE(k * 8));
      if (off < tableEnd || off + 8 > size) throw new ExrError(`chunk ${k}: offset outside the file`);
      const h = await at(off, 8);
      const y = h.readInt32LE(0);
      const len = h.readInt32LE(4);
      if (len < 0 || off + 8 + len > size) throw new ExrError(`chunk ${k}: data overruns the file`);
      if (y < yMin || y > yMax) throw new ExrError(`chunk ${k}: scan line ${y} outside the data window`);
      if (black !== true) continue;
      const lines = Math.min(linesPer, yMax - y + 1);
      const raw = decompress(compression, await at(off + 8, len), lines * lineBytes);
      if (raw.length !== lines * lineBytes) throw new ExrError(`chunk ${k}: wrong decoded size`);
      if (!allZero(raw, channels, colour, width, lines)) black = false;
    }
    return { width, height, black };
  } finally {
    if (typeof file === "string") await fh.close();
  }
}

function parseChannels(v: Buffer): Channel[] {
  const out: Channel[] = [];
  let p = 0;
  while (p < v.length && v[p] !== 0) {
    const end = v.indexOf(0, p);
    if (end < 0 || end + 17 > v.length) throw new ExrError("header: bad channel list");
    const name = v.toString("latin1", p, end);
    const type = v.readInt32LE(end + 1);
    if (type < 0 || type > 2) throw new ExrError(`header: channel ${name} has unknown pixel type ${type}`);
    out.push({ name, type, xSampling: v.readInt32LE(end + 9), ySampling: v.readInt32LE(end + 13) });
    p = end + 17;
  }
  if (out.length === 0) throw new ExrError("header: no channels");
  return out;
}

function decompress(compression: number, data: Buffer, expected: number): Buffer {
  if (compression === 0 || data.length === expected) return data;
  let t: Buffer;
  try {
    t = compression === 1 ? rleDecode(data) : inflateSync(data);
  } catch {
    throw new ExrError("chunk data does not decompress");
  }
  // Undo the predictor, then the interleaving of the two halves.
  for (let i = 1; i < t.length; i++) t[i] = ((t[i - 1] as number) + (t[i] as number) - 128) & 0xff;
  const out = Buffer.alloc(t.length);
  const half = (t.length + 1) >> 1;
  for (let i = 0, a = 0, b = half; i < t.length; i++) out[i] = i % 2 === 0 ? (t[a++] as number) : (t[b++] as number);
  return out;
}

function rleDecode(data: Buffer): Buffer {
  const out: number[] = [];
  let i = 0;
  while (i < data.length) {
    const n = (data[i++] as number) << 24 >> 24;
    if (n < 0) {
      for (let k = 0; k < -n; k++) out.push(data[i++] as number);
    } else {
      const v = data[i++] as number;
      for (let k = 0; k <= n; k++) out.push(v);
    }
    if (out.length > 1 << 28) throw new ExrError("RLE data too large");
  }
  return Buffer.from(out);
}

/** Whether every sample of the colour channels is zero (the sign bit of halfs and floats ignored). */
function allZero(raw: Buffer, channels: Channel[], colour: Channel[], width: number, lines: number): boolean {
  let p = 0;
  for (let l = 0; l < lines; l++) {
    for (const c of channels) {
      const sb = SAMPLE_BYTES[c.type] ?? 4;
      const n = width * sb;
      if (colour.includes(c)) {
        for (let i = 0; i < n; i += sb) {
          const hi = (raw[p + i + sb - 1] as number) & (c.type === 0 ? 0xff : 0x7f);
          let v = hi;
          for (let b = 0; b < sb - 1; b++) v |= raw[p + i + b] as number;
          if (v !== 0) return false;
        }
      }
      p += n;
    }
  }
  return true;
}
