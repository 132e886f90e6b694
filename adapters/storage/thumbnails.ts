import fs from "node:fs/promises";
import sharp from "sharp";

/** Widths of the previews the dashboard shows: grid thumbnails and the large last frame. */
export const THUMB_WIDTHS = { small: 160, large: 960 } as const;
export type ThumbSize = keyof typeof THUMB_WIDTHS;

/**
 * Small JPEG previews of rendered frames, made with sharp from the files on disk the first time
 * one is asked for and kept in memory (a bounded cache keyed by file, size and modification time,
 * so a frame rendered again gets a new preview). Files sharp cannot read (OpenEXR, a frame still
 * being written, a broken file) have no preview: null, quietly.
 */
export class Thumbnails {
  private readonly cache = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  async of(file: string, size: ThumbSize): Promise<Buffer | null> {
    const st = await fs.stat(file).catch(() => null);
    if (!st?.isFile()) return null;
    const key = `${size}|${st.mtimeMs}|${st.size}|${file}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    let out: Buffer;
    try {
      out = await sharp(file, { failOn: "error", limitInputPixels: 16384 * 16384 })
        .resize({ width: THUMB_WIDTHS[size], withoutEnlargement: true })
        .flatten({ background: "#202020" })
        .jpeg({ quality: size === "small" ? 70 : 85 })
        .toBuffer();
    } catch {
      return null;
    }
    this.remember(key, out);
    return out;
  }

  private remember(key: string, value: Buffer) {
    this.cache.set(key, value);
    this.bytes += value.length;
    for (const [k, v] of this.cache) {
      if (this.bytes <= this.maxBytes) break;
      this.cache.delete(k);
      this.bytes -= v.length;
    }
  }
}
