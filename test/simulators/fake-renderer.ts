import fs from "node:fs";
import path from "node:path";
import { configure, TextReader, Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from "@zip.js/zip.js";
import sharp from "sharp";

configure({ useWebWorkers: false });

/** A small opaque PNG (red, `width`x`height`). */
export function testPng(width = 16, height = 12, rgb: [number, number, number] = [200, 30, 30]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

/**
 * A minimal single-part scan-line OpenEXR file (no compression, half B, G, R channels) filled
 * with one colour (R, G, B as half-float bit patterns: 0x3c00 is 1.0, 0 is black).
 */
export function testExr(width = 16, height = 12, rgbHalf: [number, number, number] = [0x3c00, 0x1c00, 0]): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const i32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return b;
  };
  const f32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeFloatLE(n);
    return b;
  };
  const attr = (name: string, type: string, value: Buffer) =>
    Buffer.concat([Buffer.from(`${name}\0${type}\0`, "latin1"), i32(value.length), value]);
  const chlist = Buffer.concat([
    ...["B", "G", "R"].map((n) =>
      Buffer.concat([Buffer.from(`${n}\0`), i32(1), Buffer.from([0, 0, 0, 0]), i32(1), i32(1)]),
    ),
    Buffer.from([0]),
  ]);
  const box = Buffer.concat([i32(0), i32(0), i32(width - 1), i32(height - 1)]);
  parts.push(u32(20000630), u32(2));
  parts.push(attr("channels", "chlist", chlist));
  parts.push(attr("compression", "compression", Buffer.from([0])));
  parts.push(attr("dataWindow", "box2i", box));
  parts.push(attr("displayWindow", "box2i", box));
  parts.push(attr("lineOrder", "lineOrder", Buffer.from([0])));
  parts.push(attr("pixelAspectRatio", "float", f32(1)));
  parts.push(attr("screenWindowCenter", "v2f", Buffer.concat([f32(0), f32(0)])));
  parts.push(attr("screenWindowWidth", "float", f32(1)));
  parts.push(Buffer.from([0]));
  const header = Buffer.concat(parts);
  const line = Buffer.alloc(width * 2 * 3);
  const [r, g, b] = rgbHalf;
  for (let x = 0; x < width; x++) {
    line.writeUInt16LE(b, x * 2);
    line.writeUInt16LE(g, width * 2 + x * 2);
    line.writeUInt16LE(r, width * 4 + x * 2);
  }
  const chunkSize = 8 + line.length;
  const tableEnd = header.length + height * 8;
  const table = Buffer.alloc(height * 8);
  const chunks: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    table.writeBigUInt64LE(BigInt(tableEnd + y * chunkSize), y * 8);
    chunks.push(i32(y), i32(line.length), line);
  }
  return Buffer.concat([header, table, ...chunks]);
}

/**
 * The fake `rend.exe`: a Node script run as Blender would be, with the command line of the job.
 * It checks the blend file exists and the script defines `sheepit_set_compute_device` (Blender
 * fails otherwise), then writes `<-o><frame padded to 4>.<png|exr>` as Blender does, PNG or EXR
 * following the script's file format. FAKE_RENDER_MODE=black writes an all-black PNG, crash exits 3;
 * FAKE_RENDER_MS sleeps first.
 */
export function rendExeSource(png: Buffer, exr: Buffer, black: Buffer): string {
  return `#!/usr/bin/env node
(async () => {
  const fs = await import("node:fs");
  const args = process.argv.slice(2);
  const arg = (flag) => args[args.indexOf(flag) + 1];
  const mode = process.env.FAKE_RENDER_MODE || "ok";
  if (process.env.FAKE_RENDER_MS) await new Promise((r) => setTimeout(r, Number(process.env.FAKE_RENDER_MS)));
  if (mode === "crash") process.exit(3);
  if (!fs.existsSync(arg("-b"))) process.exit(4);
  const script = fs.readFileSync(arg("-P"), "utf8");
  if (!/def sheepit_set_compute_device\\(/.test(script)) process.exit(5);
  const exr = /file_format = "OPEN_EXR"/.test(script);
  const n = Number.parseInt(arg("-f"), 10);
  const frame = (n < 0 ? "-" : "") + String(Math.abs(n)).padStart(n < 0 ? 3 : 4, "0");
  const data = mode === "black" ? ${JSON.stringify(black.toString("base64"))} : exr ? ${JSON.stringify(exr.toString("base64"))} : ${JSON.stringify(png.toString("base64"))};
  fs.writeFileSync(arg("-o") + frame + (exr && mode !== "black" ? ".exr" : ".png"), Buffer.from(data, "base64"));
})();
`;
}

/** Writes a renderer zip with the fake `rend.exe` at its root; answers its path. */
export async function buildRendererZip(dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const source = rendExeSource(await testPng(), testExr(), await testPng(16, 12, [0, 0, 0]));
  const writer = new ZipWriter(new Uint8ArrayWriter());
  await writer.add("rend.exe", new TextReader(source));
  await writer.add("README.txt", new TextReader("fake Blender for tests\n"));
  const zip = path.join(dir, "fake-blender.zip");
  fs.writeFileSync(zip, await writer.close());
  return zip;
}

/** Writes a zip holding the given files (name → bytes). */
export async function zipOf(files: Record<string, Uint8Array>): Promise<Uint8Array> {
  const writer = new ZipWriter(new Uint8ArrayWriter());
  for (const [name, data] of Object.entries(files)) await writer.add(name, new Uint8ArrayReader(data));
  return writer.close();
}
