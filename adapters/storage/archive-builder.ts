import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { configure, ZipWriter } from "@zip.js/zip.js";
import type { Logger } from "../../src/app/logger.js";
import type { ArchiveChunk, JobArchive, JobArchives, RenderClientStore } from "../../src/domain/clients/ports.js";
import { FarmError } from "../../src/domain/errors.js";
import type { Job } from "../../src/domain/jobs/job.js";
import { outputDir } from "../../src/domain/jobs/output-path.js";
import { ChunkCutter, chunksOfFile } from "./archive-chunks.js";
import { isInside, realpathOfExistingPrefix } from "./storage-root.js";

configure({ useWebWorkers: false });

/**
 * How long an archive found in place (its record in Redis, its zip on disk) is answered from
 * memory without looking again: every request_job asks for it. A zip removed from the disk by hand
 * is noticed (and rebuilt) this much later; the record itself changes only by such a rebuild.
 */
const CHECKED_MS = 2_000;
const CHECKED_KEPT = 1_000;

/** The job metadata key holding the archive password (see README: "Job archives"). */
export const ARCHIVE_PASSWORD_KEY = "sheepit.archive_password";

export interface ArchiveBuilderOptions {
  /** Where archives are kept (`<DATA_DIR>/archives`). */
  dir: string;
  storageRoot: string;
  maxBytes: number;
  /** How long a request waits for a build before answering "not ready yet". */
  waitMs: number;
  /** Bytes per chunk of an archive for 2024 SheepIt clients (SHEEPIT_CHUNK_SIZE). */
  chunkSize: number;
}

/** What is kept beside an archive's zip (`<key>.json`). */
interface ArchiveMeta {
  md5: string;
  size: number;
  chunkSize?: number;
  /** [md5, size] of each chunk, in order. */
  chunks?: Array<[string, number]>;
}

interface Listed {
  rel: string;
  abs: string;
  size: number;
  mtimeMs: number;
}

/**
 * Job archives for render clients: a zip of the blend file's folder (the job's render output
 * folder and symbolic links left out), streamed to a temporary file while its MD5 is computed,
 * then renamed into place. Archives are cached by content: the key is a hash of the folder's file
 * list (paths, sizes, modification times) and the password, so an unchanged folder is zipped
 * once, whatever the number of jobs using it. AES-256 encrypted when the job has a password. The
 * zip is also cut into chunks of `chunkSize` bytes with their MD5s (2024 clients download those):
 * a chunk is a byte range of the one zip, so jobs with the same files share their chunks too.
 */
export class ArchiveBuilder implements JobArchives {
  private readonly building = new Map<string, Promise<JobArchive>>();
  /** Archives found in place on disk lately, by job id: not looked up again for CHECKED_MS. */
  private readonly checked = new Map<string, { at: number; archive: Omit<JobArchive, "password"> }>();

  constructor(
    private readonly opts: ArchiveBuilderOptions,
    private readonly state: RenderClientStore,
    private readonly logger: Logger,
  ) {}

  async forJob(job: Job): Promise<JobArchive | null> {
    const password = job.metadata[ARCHIVE_PASSWORD_KEY] ?? "";
    const now = Date.now();
    const hit = this.checked.get(job.id);
    if (hit && now - hit.at < CHECKED_MS) return { ...hit.archive, password };
    const known = await this.state.jobArchive(job.id);
    if (known) {
      const file = this.fileOf(known.key);
      const meta = await this.readMeta(known.key);
      if (meta && meta.md5 === known.md5) {
        const archive = { ...known, file, chunks: chunksOfMeta(meta) };
        if (this.checked.size >= CHECKED_KEPT) this.checked.clear();
        this.checked.set(job.id, { at: now, archive });
        return { ...archive, password };
      }
    }
    let pending = this.building.get(job.id);
    if (!pending) {
      pending = this.build(job, password).finally(() => this.building.delete(job.id));
      this.building.set(job.id, pending);
      pending.catch((err) => this.logger.warn({ err, jobId: job.id }, "job archive failed"));
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.opts.waitMs);
    });
    try {
      return await Promise.race([pending, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  private fileOf(key: string): string {
    return path.join(this.opts.dir, `${key}.zip`);
  }

  /**
   * The archive's record on disk; null when it or its zip is missing or they disagree. An archive
   * cut with another chunk size than SHEEPIT_CHUNK_SIZE (or before chunks existed) is cut again
   * from the zip, and its record rewritten.
   */
  private async readMeta(key: string): Promise<ArchiveMeta | null> {
    let meta: ArchiveMeta;
    try {
      meta = JSON.parse(await fsp.readFile(this.metaOf(key), "utf8")) as ArchiveMeta;
      const st = await fsp.stat(this.fileOf(key));
      if (st.size !== meta.size) return null;
    } catch {
      return null;
    }
    if (meta.chunkSize === this.opts.chunkSize && Array.isArray(meta.chunks)) return meta;
    try {
      const chunks = await chunksOfFile(this.fileOf(key), this.opts.chunkSize);
      const cut: ArchiveMeta = { ...meta, chunkSize: this.opts.chunkSize, chunks: chunks.map((c) => [c.md5, c.size]) };
      await writeAtomically(this.metaOf(key), JSON.stringify(cut));
      return cut;
    } catch {
      return null;
    }
  }

  private metaOf(key: string): string {
    return path.join(this.opts.dir, `${key}.json`);
  }

  private async build(job: Job, password: string): Promise<JobArchive> {
    const blend = String(job.settings.filepath ?? "");
    const dir = path.dirname(blend);
    if (!isInside(this.opts.storageRoot, dir)) throw new FarmError("invalid", "the blend file lies outside the storage");
    // A blend file directly in the root would zip the whole storage (other projects' files).
    if (path.resolve(dir) === path.resolve(this.opts.storageRoot)) {
      throw new FarmError("invalid", "the blend file lies directly in the storage root, not in a project folder");
    }
    // The folder itself may have been replaced by a link since submission: resolved, it must stay inside.
    const real = await realpathOfExistingPrefix(dir);
    if (!isInside(this.opts.storageRoot, real) || real === path.resolve(this.opts.storageRoot)) {
      throw new FarmError("invalid", "the blend file's folder now leads outside its project folder in the storage");
    }
    const skip = path.resolve(outputDir(String(job.settings.render_output ?? "")));
    const files = await listFiles(dir, skip === dir ? "" : skip);
    const blendPath = path.relative(dir, blend).split(path.sep).join("/");
    if (!files.some((f) => f.rel === blendPath)) throw new FarmError("storage", `the blend file ${blend} does not exist`);
    const total = files.reduce((n, f) => n + f.size, 0);
    if (total > this.opts.maxBytes) {
      throw new FarmError("too-large", `the job's folder holds ${total} bytes, more than ARCHIVE_MAX (${this.opts.maxBytes})`);
    }
    const key = createHash("sha256")
      .update(JSON.stringify(["v1", password, files.map((f) => [f.rel, f.size, Math.floor(f.mtimeMs)])]))
      .digest("hex")
      .slice(0, 40);
    let meta = await this.readMeta(key);
    if (!meta) meta = await this.writeZip(key, files, password);
    const record = { key, md5: meta.md5, size: meta.size, blendPath };
    await this.state.setJobArchive(job.id, record);
    return { ...record, file: this.fileOf(key), chunks: chunksOfMeta(meta), password };
  }

  private async writeZip(key: string, files: Listed[], password: string): Promise<ArchiveMeta> {
    await fsp.mkdir(this.opts.dir, { recursive: true });
    const tmp = path.join(this.opts.dir, `.${key}.${randomBytes(6).toString("hex")}.tmp`);
    const out = fs.createWriteStream(tmp);
    const md5 = createHash("md5");
    const cutter = new ChunkCutter(this.opts.chunkSize);
    let size = 0;
    const max = this.opts.maxBytes;
    const sink = new WritableStream<Uint8Array>({
      write(chunk) {
        size += chunk.length;
        if (size > max) throw new FarmError("too-large", `the job archive exceeds ARCHIVE_MAX (${max} bytes)`);
        md5.update(chunk);
        cutter.update(chunk);
        return new Promise((resolve, reject) => out.write(chunk, (err) => (err ? reject(err) : resolve())));
      },
      close() {
        return new Promise((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      },
      abort() {
        out.destroy();
      },
    });
    const zip = new ZipWriter(sink, password ? { password, encryptionStrength: 3 } : {});
    try {
      for (const f of files) {
        await zip.add(f.rel, Readable.toWeb(fs.createReadStream(f.abs)) as ReadableStream<Uint8Array>, {
          lastModDate: new Date(f.mtimeMs),
          level: /\.(png|jpe?g|exr|zip|gz|mp4|mkv|webm)$/i.test(f.rel) ? 0 : 5,
        });
      }
      await zip.close();
      const chunks = cutter.finish().map((c): [string, number] => [c.md5, c.size]);
      const meta: ArchiveMeta = { md5: md5.digest("hex"), size, chunkSize: this.opts.chunkSize, chunks };
      await fsp.writeFile(this.metaOf(key), JSON.stringify(meta));
      await fsp.rename(tmp, this.fileOf(key));
      return meta;
    } catch (err) {
      out.destroy();
      await fsp.rm(tmp, { force: true });
      if (err instanceof FarmError) throw err;
      throw new FarmError("storage", `cannot build the job archive: ${(err as Error).message}`);
    }
  }
}

/** The chunks of a record (offsets from the sizes before them). */
function chunksOfMeta(meta: ArchiveMeta): ArchiveChunk[] {
  let offset = 0;
  return (meta.chunks ?? []).map(([md5, size]) => {
    const c = { md5, offset, size };
    offset += size;
    return c;
  });
}

/** Replaces a small file so a reader sees the old content or the whole new one. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  await fsp.writeFile(tmp, text);
  await fsp.rename(tmp, file);
}

/** Regular files under `dir` (recursively, sorted), leaving out `skip` and symbolic links. */
async function listFiles(dir: string, skip: string): Promise<Listed[]> {
  const out: Listed[] = [];
  const walk = async (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch (err) {
      throw new FarmError("storage", `cannot read ${d}: ${(err as Error).message}`);
    }
    for (const e of entries) {
      const abs = path.join(d, e.name);
      if (e.isDirectory()) {
        if (skip && (abs === skip || isInside(skip, abs))) continue;
        await walk(abs);
      } else if (e.isFile() && !e.name.endsWith(".part")) {
        const st = await fsp.stat(abs);
        out.push({ rel: path.relative(dir, abs).split(path.sep).join("/"), abs, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  await walk(dir);
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
