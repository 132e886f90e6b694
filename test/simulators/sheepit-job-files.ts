import fs from "node:fs";
import path from "node:path";
import { assembleChunks, downloadChunk, projectName, saveIfMd5 } from "./sheepit-chunks.js";
import type { ClientOptions, SheepItDialect } from "./sheepit-client-options.js";
import type { JobOffer } from "./sheepit-job-offer.js";
import { type RenderedFrame, runRendExe } from "./sheepit-rend-exe.js";
import { unzip } from "./sheepit-unzip.js";
import { BadServerResponse } from "./sheepit-xml.js";

/**
 * What a SheepIt client keeps on disk for its jobs: renderers and projects, each downloaded once
 * per md5 (one archive, or 2024's chunks), checked and unpacked, and the frame rendered with them.
 */
export class SheepItJobFiles {
  /** Every archive or chunk downloaded (a cached one is not downloaded again). */
  readonly downloads: Array<{ type: "binary" | "job" | "chunk"; job: string; md5: string }> = [];
  /** 2024: each project put together from its chunks, with the md5 of the whole. */
  readonly assembled: Array<{ job: string; md5: string; chunks: number }> = [];

  constructor(
    private readonly o: ClientOptions,
    private readonly dialect: SheepItDialect,
    private readonly http: (url: string, init: RequestInit, what: string) => Promise<Response>,
    /** The absolute URL of an endpoint the config answer named. */
    private readonly endpoint: (type: string) => string,
  ) {}

  /** Where job archives are kept and unpacked. */
  archivesDir(): string {
    return path.join(this.o.workDir, "archives");
  }

  /** md5s of the job archives held, as the `<cache>` body lists them. */
  cachedArchives(): string[] {
    if (!fs.existsSync(this.archivesDir())) return [];
    return fs
      .readdirSync(this.archivesDir())
      .filter((f) => f.endsWith(".zip"))
      .map((f) => f.slice(0, -4));
  }

  /** Downloads `archive.php?type=...&job=...` to `dest` and checks its MD5 (lowercase, case-sensitive). */
  private async download(type: "binary" | "job", jobId: string, md5: string, dest: string): Promise<void> {
    this.downloads.push({ type, job: jobId, md5 });
    const url =
      this.dialect === "2024"
        ? `${this.endpoint("download-binary")}?job=${jobId}`
        : `${this.endpoint("download-archive")}?type=${type}&job=${jobId}`;
    const res = await this.http(url, {}, `archive-${type}`);
    if (res.status !== 200 || !res.body) throw new BadServerResponse(`archive ${type}: HTTP ${res.status}`);
    const got = await saveIfMd5(res.body, md5, dest);
    if (got !== md5) throw new BadServerResponse(`archive ${type}: md5 ${got} is not ${md5}`);
  }

  /** The job's project, downloaded (as one archive or as chunks, by dialect) and unpacked once; answers its folder. */
  private async project(job: JobOffer): Promise<string> {
    fs.mkdirSync(this.archivesDir(), { recursive: true });
    const name = this.dialect === "2024" ? projectName(job.chunks) : job.archiveMd5;
    const zip = path.join(this.archivesDir(), `${name}.zip`);
    const unpacked = path.join(this.archivesDir(), name);
    if (!fs.existsSync(zip)) {
      if (this.dialect !== "2024") await this.download("job", job.id, job.archiveMd5, zip);
      else {
        const chunkUrl = this.endpoint("download-chunk");
        const { md5 } = await assembleChunks(job.chunks, path.join(this.o.workDir, "chunks"), zip, async (c, dest) => {
          this.downloads.push({ type: "chunk", job: job.id, md5: c.md5 });
          await downloadChunk(await this.http(`${chunkUrl}?chunk=${c.id}`, {}, "chunk"), c.md5, dest);
        });
        this.assembled.push({ job: job.id, md5, chunks: job.chunks.length });
      }
    }
    await unzip(zip, unpacked, job.password);
    return unpacked;
  }

  /** Gets what the job needs (renderer once per md5, archive once per md5) and renders the frame. */
  async render(job: JobOffer): Promise<RenderedFrame> {
    const workDir = path.join(this.o.workDir, "work");
    fs.rmSync(workDir, { recursive: true, force: true });
    fs.mkdirSync(workDir, { recursive: true });
    const started = performance.now();
    if (this.o.instantImage) {
      const file = path.join(workDir, `${job.id}_${job.frame}.png`);
      fs.writeFileSync(file, this.o.instantImage);
      return { job, file, renderSeconds: 0 };
    }
    const rendDir = path.join(this.o.workDir, "renderers", job.renderer.md5);
    if (!fs.existsSync(path.join(rendDir, ".unpacked"))) {
      fs.mkdirSync(path.dirname(rendDir), { recursive: true });
      const zip = `${rendDir}.zip`;
      if (!fs.existsSync(zip)) await this.download("binary", job.id, job.renderer.md5, zip);
      await unzip(zip, rendDir, "");
      fs.chmodSync(path.join(rendDir, "rend.exe"), 0o755);
    }
    const unpacked = await this.project(job);
    return runRendExe(job, rendDir, unpacked, workDir, this.o.renderEnv, started);
  }
}
