import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { BlobReader, configure, ZipReader } from "@zip.js/zip.js";
import { z } from "zod";
import type { Renderer, RendererCatalog } from "../../src/domain/clients/ports.js";
import { FarmError, invalid } from "../../src/domain/errors.js";
import { ExpiringMap } from "../../src/domain/expiring-map.js";
import { isInside } from "./storage-root.js";

configure({ useWebWorkers: false });

/** The protocol's example command line: what a renderer gets unless it names its own. */
export const DEFAULT_COMMANDLINE =
  ".e --factory-startup --disable-autoexec -noaudio -b .c --engine CYCLES -o .o -f .f -x 1";

export const MANIFEST = "renderers.json";

const Entry = z.object({
  name: z.string().min(1),
  os: z.string().min(1),
  bits: z.string().min(1),
  /** The zip's file name, inside the renderers folder. */
  file: z.string().min(1),
  commandline: z.string().min(1).optional(),
  default: z.boolean().optional(),
  /** Cached by the gateway: the zip's MD5 with the size and mtime it was computed for. */
  md5: z.string().optional(),
  size: z.number().optional(),
  mtimeMs: z.number().optional(),
});
type Entry = z.infer<typeof Entry>;
const Manifest = z.object({ renderers: z.array(Entry) });

export const OSES = ["windows", "mac", "linux"] as const;
export const BITS = ["32bit", "64bit"] as const;

/**
 * Renderer zips in RENDERERS_DIR with a manifest, `renderers.json`:
 * `{"renderers": [{"name", "os", "bits", "file", "commandline"?, "default"?}]}`. The MD5 of each zip
 * is computed once and written back to the manifest with the size and mtime it belongs to (a
 * replaced zip gets a new one). The manifest is re-read when it changes on disk.
 */
/** How long a renderer lookup stands (see `found`). */
const FIND_STANDS_MS = 1_000;

export class FolderRendererCatalog implements RendererCatalog {
  private cache: { mtimeMs: number; entries: Entry[] } | undefined;
  /**
   * `find` answers per os and bits, each standing FIND_STANDS_MS before the manifest and the zip
   * are looked at again (two `stat`s, most of a SheepIt `request_job`'s file-system time): a
   * replaced zip or an edited manifest is seen within that; `add` in this process at once.
   */
  private readonly found = new ExpiringMap<Renderer | null>(100);

  constructor(
    readonly dir: string,
    private readonly opts: { now?: () => number } = {},
  ) {}

  private manifestPath(): string {
    return path.join(this.dir, MANIFEST);
  }

  private async entries(): Promise<Entry[]> {
    let st: fs.Stats;
    try {
      st = await fsp.stat(this.manifestPath());
    } catch {
      return [];
    }
    if (this.cache && this.cache.mtimeMs === st.mtimeMs) return this.cache.entries;
    const parsed = Manifest.safeParse(JSON.parse(await fsp.readFile(this.manifestPath(), "utf8")));
    if (!parsed.success) throw new FarmError("storage", `${this.manifestPath()} is not a valid renderer manifest`);
    this.cache = { mtimeMs: st.mtimeMs, entries: parsed.data.renderers };
    return parsed.data.renderers;
  }

  private async write(entries: Entry[]): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    const tmp = `${this.manifestPath()}.${process.pid}.tmp`;
    await fsp.writeFile(tmp, `${JSON.stringify({ renderers: entries }, null, 2)}\n`);
    await fsp.rename(tmp, this.manifestPath());
    this.cache = undefined;
    this.found.clear();
  }

  /** The entry as a Renderer, with its MD5 (computed and cached when missing or stale). */
  private async resolve(e: Entry, all: Entry[]): Promise<Renderer | null> {
    const file = path.resolve(this.dir, e.file);
    if (!isInside(this.dir, file)) return null;
    let st: fs.Stats;
    try {
      st = await fsp.stat(file);
    } catch {
      return null;
    }
    if (!e.md5 || e.size !== st.size || e.mtimeMs !== st.mtimeMs) {
      e.md5 = await md5File(file);
      e.size = st.size;
      e.mtimeMs = st.mtimeMs;
      await this.write(all).catch(() => undefined);
    }
    return {
      name: e.name,
      os: e.os,
      bits: e.bits,
      md5: e.md5,
      size: st.size,
      commandline: e.commandline ?? DEFAULT_COMMANDLINE,
      isDefault: e.default === true,
      file,
    };
  }

  async find(os: string, bits: string): Promise<Renderer | null> {
    const now = (this.opts.now ?? Date.now)();
    const key = `${os.toLowerCase()}|${bits.toLowerCase()}`;
    const known = this.found.get(key, now);
    if (known !== undefined) return known;
    const renderer = await this.lookUp(os, bits);
    this.found.set(key, renderer, now + FIND_STANDS_MS);
    return renderer;
  }

  private async lookUp(os: string, bits: string): Promise<Renderer | null> {
    const all = await this.entries();
    const fits = all.filter((e) => e.os.toLowerCase() === os.toLowerCase() && e.bits.toLowerCase() === bits.toLowerCase());
    const ordered = [...fits.filter((e) => e.default), ...fits.filter((e) => !e.default).reverse()];
    for (const e of ordered) {
      const r = await this.resolve(e, all);
      if (r) return r;
    }
    return null;
  }

  async list(): Promise<Renderer[]> {
    const all = await this.entries();
    const out: Renderer[] = [];
    for (const e of all) {
      const r = await this.resolve(e, all);
      if (r) out.push(r);
    }
    return out;
  }

  /**
   * Registers a renderer zip: checks it holds `rend.exe` at its root, copies it into the folder
   * and adds it to the manifest (replacing an entry of the same name, os and bits).
   */
  async add(zip: string, o: { name: string; os: string; bits: string; commandline?: string; isDefault?: boolean }): Promise<Renderer> {
    if (!(OSES as readonly string[]).includes(o.os)) throw invalid("os", `--os must be one of ${OSES.join(", ")}`);
    if (!(BITS as readonly string[]).includes(o.bits)) throw invalid("bits", `--bits must be one of ${BITS.join(", ")}`);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(o.name)) throw invalid("name", "--name: 1 to 64 letters, digits, . _ or -");
    if (o.commandline !== undefined && !/(^| )\.e( |$)/.test(o.commandline)) {
      throw invalid("commandline", "--commandline must contain .e (the executable)");
    }
    if (!(await zipHasRendExe(zip))) throw invalid("zip", `${zip} is not a zip with rend.exe at its root`);
    const file = `${o.name}-${o.os}-${o.bits}.zip`;
    await fsp.mkdir(this.dir, { recursive: true });
    const tmp = path.join(this.dir, `.${file}.tmp`);
    await fsp.copyFile(zip, tmp);
    await fsp.rename(tmp, path.join(this.dir, file));
    const all = (await this.entries()).filter((e) => !(e.name === o.name && e.os === o.os && e.bits === o.bits));
    if (o.isDefault) for (const e of all) if (e.os === o.os && e.bits === o.bits) delete e.default;
    const entry: Entry = { name: o.name, os: o.os, bits: o.bits, file };
    if (o.commandline) entry.commandline = o.commandline;
    if (o.isDefault) entry.default = true;
    all.push(entry);
    await this.write(all);
    const r = await this.resolve(entry, all);
    if (!r) throw new FarmError("storage", `cannot read ${file} back`);
    return r;
  }
}

export async function md5File(file: string): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function zipHasRendExe(zip: string): Promise<boolean> {
  let reader: ZipReader<unknown> | undefined;
  try {
    reader = new ZipReader(new BlobReader(await fs.openAsBlob(zip)));
    const entries = await reader.getEntries();
    return entries.some((e) => e.filename === "rend.exe" && !e.directory);
  } catch {
    return false;
  } finally {
    await reader?.close().catch(() => undefined);
  }
}
