import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { deflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { testExr } from "../../test/simulators/fake-renderer.js";
import { ExrError, inspectExr } from "./exr.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-exr-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, data: Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  return p;
}

/** The same image as testExr, ZIP-compressed (16 scan lines per chunk) as OpenEXR writes it. */
function zipExr(width: number, height: number, rgb: [number, number, number]): Buffer {
  const plain = testExr(width, height, rgb);
  const headerEnd = plain.indexOf(Buffer.from("screenWindowWidth\0float\0")) + 24 + 4 + 4 + 1;
  const header = Buffer.from(plain.subarray(0, headerEnd));
  header[header.indexOf(Buffer.from("compression\0compression\0")) + 24 + 4] = 3;
  const lineBytes = width * 2 * 3;
  const lineOf = (y: number) => plain.subarray(headerEnd + height * 8 + y * (8 + lineBytes) + 8, headerEnd + height * 8 + (y + 1) * (8 + lineBytes));
  const chunks: Buffer[] = [];
  for (let y = 0; y < height; y += 16) {
    const raw = Buffer.concat(Array.from({ length: Math.min(16, height - y) }, (_, k) => lineOf(y + k)));
    const t = Buffer.alloc(raw.length);
    const half = (raw.length + 1) >> 1;
    for (let i = 0, a = 0, b = half; i < raw.length; i++) t[i % 2 === 0 ? a++ : b++] = raw[i] as number;
    const p = Buffer.alloc(t.length);
    p[0] = t[0] as number;
    for (let i = 1; i < t.length; i++) p[i] = ((t[i] as number) - (t[i - 1] as number) + 128 + 256) & 0xff;
    const data = deflateSync(p);
    const h = Buffer.alloc(8);
    h.writeInt32LE(y, 0);
    h.writeInt32LE(data.length, 4);
    chunks.push(Buffer.concat([h, data]));
  }
  const table = Buffer.alloc(chunks.length * 8);
  let off = header.length + table.length;
  chunks.forEach((c, k) => {
    table.writeBigUInt64LE(BigInt(off), k * 8);
    off += c.length;
  });
  return Buffer.concat([header, table, ...chunks]);
}

describe("inspectExr", () => {
  it("reads the dimensions and tells coloured from all-black images, uncompressed and ZIP", async () => {
    expect(await inspectExr(file("ok.exr", testExr(16, 12)))).toEqual({ width: 16, height: 12, black: false });
    expect(await inspectExr(file("black.exr", testExr(16, 12, [0, 0, 0])))).toEqual({ width: 16, height: 12, black: true });
    expect(await inspectExr(file("neg0.exr", testExr(8, 4, [0x8000, 0, 0x8000])))).toMatchObject({ black: true });
    expect(await inspectExr(file("zip.exr", zipExr(20, 40, [0x3c00, 0, 0])))).toEqual({ width: 20, height: 40, black: false });
    expect(await inspectExr(file("zipblack.exr", zipExr(20, 40, [0, 0, 0])))).toMatchObject({ black: true });
  });

  it("rejects broken files: magic, truncation, missing attributes, offsets outside the file, bad chunk data", async () => {
    const good = testExr(16, 12);
    const bad = async (data: Buffer, msg: RegExp) => {
      await expect(inspectExr(file("bad.exr", data))).rejects.toThrow(msg);
      await expect(inspectExr(file("bad.exr", data))).rejects.toBeInstanceOf(ExrError);
    };
    await bad(Buffer.from("GIF89a..."), /magic/);
    await bad(good.subarray(0, 60), /truncated|overruns/);
    await bad(good.subarray(0, good.length - 10), /overruns|outside/);
    await bad(Buffer.from(good.toString("latin1").replace("lineOrder\0lineOrder", "lineOrdeX\0lineOrder"), "latin1"), /lineOrder/);
    const offsets = Buffer.from(good);
    const tableAt = good.length - 12 * (8 + 96) - 12 * 8;
    offsets.writeBigUInt64LE(BigInt(good.length + 100), tableAt);
    await bad(offsets, /outside the file/);
    const zipped = zipExr(20, 40, [0x3c00, 0, 0]);
    const corrupt = Buffer.from(zipped);
    const first = Number(corrupt.readBigUInt64LE(zipped.indexOf(Buffer.from("screenWindowWidth\0float\0")) + 33));
    corrupt.fill(0x55, first + 8, first + 14);
    await bad(corrupt, /decompress|decoded size/);
  });
});
