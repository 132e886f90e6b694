import { createHash, type Hash } from "node:crypto";
import fs from "node:fs";
import type { ArchiveChunk } from "../../src/domain/clients/ports.js";

/**
 * Cuts a byte stream into chunks of `size` bytes (the last one shorter) and hashes each with MD5 as
 * the bytes go by: memory stays flat, whatever the stream's length. Fed while a job archive is
 * written, or from the archive on disk when the chunk size changed since it was built.
 */
export class ChunkCutter {
  private readonly done: ArchiveChunk[] = [];
  private hash: Hash | undefined;
  private offset = 0;
  private filled = 0;

  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size ${size} is not a positive integer`);
  }

  update(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      this.hash ??= createHash("md5");
      const take = Math.min(this.size - this.filled, bytes.length - at);
      this.hash.update(bytes.subarray(at, at + take));
      this.filled += take;
      at += take;
      if (this.filled === this.size) this.close();
    }
  }

  /** The chunks, in order; no more bytes may follow. */
  finish(): ArchiveChunk[] {
    if (this.filled > 0) this.close();
    return this.done;
  }

  private close(): void {
    this.done.push({ md5: (this.hash as Hash).digest("hex"), offset: this.offset, size: this.filled });
    this.offset += this.filled;
    this.filled = 0;
    this.hash = undefined;
  }
}

/** The chunks of a file on disk, read as a stream. */
export async function chunksOfFile(file: string, size: number): Promise<ArchiveChunk[]> {
  const cutter = new ChunkCutter(size);
  for await (const piece of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) cutter.update(piece as Buffer);
  return cutter.finish();
}
