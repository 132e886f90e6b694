import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import type { FrameFiles, ImageInfo } from "../../src/domain/clients/ports.js";
import { FarmError } from "../../src/domain/errors.js";
import { checkedImageFor } from "../../src/domain/jobs/output-formats.js";
import { ExrError, inspectExr, isExr } from "./exr.js";
import { isInside, realpathOfExistingPrefix } from "./storage-root.js";

const notAnImage = (why: string) => new FarmError("invalid", `the upload is not an image: ${why}`, { reason: "not-an-image" });

const SHARP_FORMATS: Record<string, ImageInfo["format"]> = { png: "png", jpeg: "jpeg", tiff: "tiff" };

/**
 * Frames uploaded by render clients: decoded (PNG, JPEG and TIFF by libvips through sharp, every
 * pixel read; OpenEXR by exr.ts), then moved into place atomically. Temporary files live beside
 * their target, so the final rename never crosses file systems.
 */
export class LocalFrameFiles implements FrameFiles {
  /** `root`: the storage root every frame is confined to (links resolved) right before it is written. */
  constructor(private readonly root?: string) {}

  /**
   * A frame is written only as a frame (an extension the farm checks) and only inside the root,
   * symbolic links resolved at the moment of writing (a link planted after submission).
   */
  private async confined(target: string): Promise<void> {
    if (!checkedImageFor(path.extname(target))) {
      throw new FarmError("storage", `refusing to write ${target}: not a frame file the farm writes`);
    }
    if (!this.root) return;
    const real = await realpathOfExistingPrefix(path.dirname(path.resolve(target)));
    if (!isInside(this.root, real)) {
      throw new FarmError("storage", `refusing to write ${target}: its folder leads outside the farm storage`);
    }
    const st = await fs.lstat(target).catch(() => null);
    if (st && !st.isFile()) throw new FarmError("storage", `refusing to replace ${target}: it is not a regular file`);
  }

  async inspect(file: string): Promise<ImageInfo> {
    const fh = await fs.open(file, "r");
    try {
      const head = Buffer.alloc(4);
      await fh.read(head, 0, 4, 0);
      // OpenEXR is checked through the handle already open; other formats go to sharp by path.
      if (isExr(head)) return { format: "exr", ...(await inspectExr(fh)) };
    } catch (err) {
      if (err instanceof ExrError) throw notAnImage(`broken OpenEXR file (${err.message})`);
      throw err;
    } finally {
      await fh.close();
    }
    try {
      const image = sharp(file, { failOn: "error", sequentialRead: true });
      const meta = await image.metadata();
      const format = SHARP_FORMATS[meta.format ?? ""];
      if (!format) throw notAnImage(`${meta.format ?? "unknown"} is not PNG, JPEG, TIFF or OpenEXR`);
      // stats() decodes every pixel: a truncated or corrupt file fails here.
      const stats = await image.stats();
      const channels = stats.channels.length - (meta.hasAlpha ? 1 : 0);
      const black = meta.space === "cmyk" ? undefined : stats.channels.slice(0, channels).every((c) => c.max === 0);
      return { format, width: meta.width ?? 0, height: meta.height ?? 0, black };
    } catch (err) {
      if (err instanceof FarmError) throw err;
      throw notAnImage((err as Error).message.split("\n")[0] ?? "cannot be decoded");
    }
  }

  /** A temporary path beside `target` (its folder is created). */
  async tempFor(target: string): Promise<string> {
    const dir = path.dirname(target);
    await this.confined(target);
    try {
      await fs.mkdir(dir, { recursive: true });
    } catch (err) {
      throw new FarmError("storage", `cannot create ${dir}: ${(err as Error).message}`);
    }
    return path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString("hex")}.part`);
  }

  async place(file: string, target: string): Promise<void> {
    await this.confined(target);
    try {
      try {
        await fs.rename(file, target).catch(async (err) => {
          // Usually the folder exists (temporary files live beside their target): made on demand.
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
          await fs.mkdir(path.dirname(target), { recursive: true });
          await fs.rename(file, target);
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
        const tmp = await this.tempFor(target);
        await fs.copyFile(file, tmp);
        await fs.rename(tmp, target).catch(async (e) => {
          await fs.rm(tmp, { force: true });
          throw e;
        });
      }
    } catch (err) {
      throw new FarmError("storage", `cannot write ${target}: ${(err as Error).message}`);
    }
  }

  async discard(file: string): Promise<void> {
    await fs.rm(file, { force: true }).catch(() => undefined);
  }
}
