import fs from "node:fs";
import { Readable } from "node:stream";
import type { Context } from "hono";

/** A file, or a piece of one, to answer as a download. */
export interface FilePiece {
  file: string;
  /** Where the piece starts in the file (0 for the whole file). */
  offset?: number;
  /** The piece's size in bytes. */
  size: number;
  md5: string;
  contentType?: string;
}

/**
 * Answers a file (or a piece of it) streamed from disk, memory flat whatever its size: Content-Length,
 * `Accept-Ranges`, the md5 as ETag, and one `bytes=` range of the piece (206, or 416 when it
 * cannot be satisfied). HEAD answers the headers only.
 */
export function fileAnswer(c: Context, p: FilePiece): Response {
  const range = parseRange(c.req.header("range"), p.size);
  if (range === "unsatisfiable") {
    return c.body(null, 416, { "Content-Range": `bytes */${p.size}` });
  }
  const [start, end] = range ?? [0, p.size - 1];
  const headers: Record<string, string> = {
    "Content-Type": p.contentType ?? "application/zip",
    "Content-Length": String(Math.max(0, end - start + 1)),
    "Accept-Ranges": "bytes",
    ETag: `"${p.md5}"`,
  };
  if (range) headers["Content-Range"] = `bytes ${start}-${end}/${p.size}`;
  const status = range ? 206 : 200;
  if (c.req.method === "HEAD" || p.size === 0) return c.body(null, status, headers);
  const base = p.offset ?? 0;
  const stream = fs.createReadStream(p.file, { start: base + start, end: base + end });
  return new Response(Readable.toWeb(stream) as ReadableStream, { status, headers });
}

/** One `bytes=` range of a file of `size` bytes: [start, end] inclusive; null for none. */
export function parseRange(header: string | undefined, size: number): [number, number] | null | "unsatisfiable" {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return "unsatisfiable";
  return [start, end];
}
