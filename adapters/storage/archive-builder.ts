import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { configure, ZipWriter } from "@zip.js/zip.js";
import type { Logger } from "../../src/app/logger.js";
import type { JobArchive, JobArchives, RenderClientStore } from "../../src/domain/clients/ports.js";
import { FarmError } from "../../src/domain/errors.js";
import type { Job } from "../../src/domain/jobs/job.js";
import { outputDir } from "../../src/domain/jobs/output-path.js";
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
 * once, whatever the number of jobs using it. AES-256 encrypted when the job has a password.
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
        if (this.checked.size >= CHECKED_KEPT) this.checked.clear();
        this.checked.set(job.id, { at: now, archive: { ...known, file } });
        return { ...known, file, password };
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

  private async readMeta(key: string): Promise<{ md5: string; size: number } | null> {
    try {
      const meta = JSON.parse(await fsp.readFile(path.join(this.opts.dir, `${key}.json`), "utf8"));
      const st = await fsp.stat(this.fileOf(key));
      return st.size === meta.size ? meta : null;
    } catch {
      return null;
    }
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
    return { ...record, file: this.fileOf(key), password };
  }

  private async writeZip(key: string, files: Listed[], password: string): Promise<{ md5: string; size: number }> {
    await fsp.mkdir(this.opts.dir, { recursive: true });
    const tmp = path.join(this.opts.dir, `.${key}.${randomBytes(6).toString("hex")}.tmp`);
    const out = fs.createWriteStream(tmp);
    const md5 = createHash("md5");
    let size = 0;
    const max = this.opts.maxBytes;
    const sink = new WritableStream<Uint8Array>({
      write(chunk) {
        size += chunk.length;
        if (size > max) throw new FarmError("too-large", `the job archive exceeds ARCHIVE_MAX (${max} bytes)`);
        md5.update(chunk);
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
      const meta = { md5: md5.digest("hex"), size };
      await fsp.writeFile(path.join(this.opts.dir, `${key}.json`), JSON.stringify(meta));
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
