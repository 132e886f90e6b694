import { FarmError } from "../errors.js";
import type { ClientSessions } from "./client-sessions.js";
import type { RenderClientDeps, RenderClientOptions } from "./render-client-options.js";

/** `archive.php` and `download-chunk`: a job's archive, a piece of it, or the renderer, for sessions given a frame of the job. */
export class ArchiveDownloads {
  constructor(
    private readonly d: RenderClientDeps,
    private readonly opts: RenderClientOptions,
    private readonly clientSessions: ClientSessions,
  ) {}

  /** The file behind `archive.php`: a job's archive or the renderer, for sessions given a frame of the job. */
  async archiveFile(
    cookie: string | undefined,
    type: "job" | "binary",
    sheepitId: number,
  ): Promise<{ file: string; size: number; md5: string }> {
    const notFound = () => new FarmError("not-found", "no such archive for this session");
    const s = await this.clientSessions.session(cookie).catch(() => {
      throw notFound();
    });
    const jobId = await this.d.jobStore.idForSheepitId(sheepitId);
    if (!jobId) throw notFound();
    const last = await this.d.state.lastAssignment(s.id, jobId);
    const recent = last !== null && Date.now() - last <= Math.max(this.opts.archiveAccessMs, this.opts.leaseMs);
    if (!recent && !(await this.d.work.held(s.id)).some((l) => l.jobId === jobId)) throw notFound();
    if (type === "binary") {
      const r = await this.d.renderers.find(s.attrs.os ?? "", s.attrs.bits ?? "");
      if (!r) throw notFound();
      return { file: r.file, size: r.size, md5: r.md5 };
    }
    const job = await this.d.jobStore.get(jobId);
    const a = job ? await this.d.archives.forJob(job).catch(() => null) : null;
    if (!a) throw notFound();
    return { file: a.file, size: a.size, md5: a.md5 };
  }

  /**
   * The piece of a job archive behind `download-chunk` (its id is its md5), for a session given a
   * frame of a job whose archive holds it: the jobs it holds frames of, then the ones it was given
   * lately. Jobs with the same files share one archive, so their chunks are one and the same.
   */
  async chunkFile(
    cookie: string | undefined,
    chunkId: string,
  ): Promise<{ file: string; offset: number; size: number; md5: string }> {
    const notFound = () => new FarmError("not-found", "no such chunk for this session");
    const s = await this.clientSessions.session(cookie).catch(() => {
      throw notFound();
    });
    const since = Date.now() - Math.max(this.opts.archiveAccessMs, this.opts.leaseMs);
    const [held, recent] = await Promise.all([this.d.work.held(s.id), this.d.state.recentJobs(s.id, since, 20)]);
    for (const jobId of new Set([...held.map((l) => l.jobId), ...recent])) {
      const job = await this.d.jobStore.get(jobId);
      const a = job ? await this.d.archives.forJob(job).catch(() => null) : null;
      const chunk = a?.chunks.find((c) => c.md5 === chunkId);
      if (a && chunk) return { file: a.file, offset: chunk.offset, size: chunk.size, md5: chunk.md5 };
    }
    throw notFound();
  }
}
