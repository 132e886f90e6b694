import fs from "node:fs";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import type { Context } from "hono";
import { FarmError } from "../../src/domain/errors.js";

export interface MultipartResult {
  fields: Record<string, string>;
  /** Whether the wanted file part was present. */
  gotFile: boolean;
  /** The file part exceeded `maxBytes` (what was written is incomplete). */
  truncated: boolean;
  /** The file part's content when `sink` is "text" (the first `maxBytes` bytes). */
  text: string;
}

/**
 * Streams a multipart/form-data body: fields are collected, the part named `field` goes to a
 * file (`sink: {path}`) or to a bounded string (`sink: "text"`), at most `maxBytes` bytes of it;
 * other file parts are drained. Memory stays flat whatever the upload's size. A body that is not
 * multipart yields no file; a malformed one is `invalid`.
 */
export async function readMultipart(
  c: Context,
  opts: { field: string; sink: { path: string } | "text"; maxBytes: number },
): Promise<MultipartResult> {
  const result: MultipartResult = { fields: {}, gotFile: false, truncated: false, text: "" };
  const contentType = c.req.header("content-type") ?? "";
  const body = c.req.raw.body;
  if (!body || !contentType.toLowerCase().startsWith("multipart/form-data")) return result;
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: { "content-type": contentType },
      limits: { fileSize: opts.maxBytes, files: 4, fields: 50, fieldSize: 64 * 1024, parts: 60 },
    });
  } catch (err) {
    throw new FarmError("invalid", `malformed multipart body: ${(err as Error).message}`, { field: opts.field });
  }
  const writes: Array<Promise<void>> = [];
  const source = Readable.fromWeb(body as import("node:stream/web").ReadableStream);
  bb.on("field", (name, value) => {
    if (!(name in result.fields)) result.fields[name] = value;
  });
  bb.on("file", (name, stream) => {
    if (name !== opts.field || result.gotFile) {
      stream.resume();
      return;
    }
    result.gotFile = true;
    stream.on("limit", () => {
      // Past the cap nothing more is read: the request is cut off here, not drained to its end.
      result.truncated = true;
      source.destroy(new Error("upload over the size cap"));
    });
    if (opts.sink === "text") {
      const chunks: Buffer[] = [];
      stream.on("data", (d: Buffer) => chunks.push(d));
      writes.push(
        new Promise((resolve, reject) => {
          stream.on("end", () => {
            result.text = Buffer.concat(chunks).toString("utf8");
            resolve();
          });
          stream.on("error", reject);
        }),
      );
    } else {
      writes.push(pipeline(stream, fs.createWriteStream(opts.sink.path)));
    }
  });
  try {
    await pipeline(source, bb as unknown as Writable);
    await Promise.all(writes);
  } catch (err) {
    if (result.truncated) {
      await Promise.allSettled(writes);
      return result;
    }
    if ((err as NodeJS.ErrnoException).code?.startsWith("E") && (err as NodeJS.ErrnoException).syscall) {
      throw new FarmError("storage", `cannot store the upload: ${(err as Error).message}`);
    }
    throw new FarmError("invalid", `malformed multipart body: ${(err as Error).message}`, { field: opts.field });
  }
  return result;
}
