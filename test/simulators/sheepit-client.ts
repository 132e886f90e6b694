import fs from "node:fs";
import path from "node:path";
import type { ClientOptions, SheepItDialect } from "./sheepit-client-options.js";
import { SheepItHttp } from "./sheepit-http.js";
import { SheepItJobFiles } from "./sheepit-job-files.js";
import { type JobOffer, type JobRequestResult, parseJob } from "./sheepit-job-offer.js";
import { type RenderedFrame, RenderFailed } from "./sheepit-rend-exe.js";
import { BadServerResponse, javaInt, required, xmlRoot } from "./sheepit-xml.js";

export type { ClientOptions, SheepItDialect } from "./sheepit-client-options.js";
export type { JobOffer, JobRequestResult } from "./sheepit-job-offer.js";
export { type RenderedFrame, RenderFailed } from "./sheepit-rend-exe.js";
export { BadServerResponse } from "./sheepit-xml.js";

/**
 * A SheepIt client as the Java client behaves on the wire (../shared/specs/sheepit-client-behaviour.md):
 * a cookie jar; config as a form POST; request-job with its parameters in the query string and a
 * `<cache>` XML body; every XML answer must be `text/xml` and carry the attributes the Java parser
 * requires (it throws otherwise); archives checked against lowercase MD5s and unpacked once; the
 * renderer's `rend.exe` run with the command line split on spaces; the validation URL
 * percent-decoded with `&rendertime=N&memoryused=KB` appended and the frame sent as the multipart
 * part `file`; the start-up log (error type 0) after login; re-login with the `publickey` after 202.
 *
 * Beside it: sheepit-http.ts (cookies), sheepit-xml.ts (reading answers as the Java parser does),
 * sheepit-job-offer.ts, sheepit-job-files.ts (downloads, unpacking, rendering: sheepit-unzip.ts,
 * sheepit-rend-exe.ts, sheepit-chunks.ts).
 *
 * Unzipping uses @zip.js/zip.js (pure JS, reads ZipCrypto and AES zips like the Java client's
 * zip4j; `unzip` is not on every machine).
 *
 * `dialect` picks the generation: "2020" (no start-up log, uploads in line), "2022" (the default:
 * start-up log, background uploads) and "2024" (sheepit-protocol-2024.md: the config answer must
 * list download-binary and download-chunk, request-job has no `<cache>` body, the renderer comes
 * from download-binary and the project as `<chunks>` from download-chunk, each chunk checked
 * against its md5, kept by md5 and concatenated in order; `archive_md5` is not read).
 */

/**
 * What a 2024 client needs in the config answer ("Could not find endpoint for: <type>" otherwise),
 * as sheepit-protocol-2024.md lists them: the client's own list, not the server's contract.
 */
const REQUIRED_2024 = [
  "request-job",
  "download-binary",
  "download-chunk",
  "error",
  "keepmealive",
  "logout",
  "speedtest-answer",
];

export class SheepItClient {
  readonly cookies: Map<string, string>;
  password: string;
  paths: Record<string, string> = {};
  maxPeriod: number | undefined;
  speedtestTargets: string[] = [];
  /** Statuses of every upload, in order. */
  readonly uploads: Array<{ job: string; frame: string; status: number; http: number }> = [];
  /** Every archive or chunk downloaded (a cached one is not downloaded again). */
  readonly downloads: SheepItJobFiles["downloads"];
  /** 2024: each project put together from its chunks, with the md5 of the whole. */
  readonly assembled: SheepItJobFiles["assembled"];
  readonly dialect: SheepItDialect;
  private readonly newer: boolean;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly transport: SheepItHttp;
  private readonly files: SheepItJobFiles;

  constructor(readonly o: ClientOptions) {
    this.password = o.password;
    this.dialect = o.dialect ?? "2022";
    this.newer = o.newer ?? this.dialect !== "2020";
    this.transport = new SheepItHttp(o);
    this.cookies = this.transport.cookies;
    this.files = new SheepItJobFiles(
      o,
      this.dialect,
      (url, init, what) => this.http(url, init, what),
      (type) => this.url(this.paths[type] as string),
    );
    this.downloads = this.files.downloads;
    this.assembled = this.files.assembled;
    fs.mkdirSync(o.workDir, { recursive: true });
  }

  private http(url: string, init: RequestInit = {}, what = url): Promise<Response> {
    return this.transport.send(url, init, what);
  }

  /** A request with this client's cookies (`p` a path on the server or an absolute URL). */
  raw(p: string, init: RequestInit = {}): Promise<Response> {
    return this.http(p.startsWith("http") ? p : this.url(p), init, "raw");
  }

  private url(p: string): string {
    return this.o.url.replace(/\/+$/, "") + p;
  }

  /** config.php; throws (the real client ends) on anything but HTTP 200 + text/xml + status 0. */
  async login(): Promise<number> {
    const form = new URLSearchParams({
      login: this.o.login,
      password: this.password,
      cpu_family: "6",
      cpu_model: "158",
      cpu_model_name: "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz",
      cpu_cores: String(this.o.cores ?? 4),
      os: this.o.os ?? "linux",
      os_version: "Debian 12",
      ram: String(this.o.ramKb ?? 16_000_000),
      bits: this.o.bits ?? "64bit",
      version: this.o.version ?? { "2020": "6.20112.0", "2022": "7.23353.0", "2024": "7.24086.0" }[this.dialect],
      hostname: this.o.hostname ?? "render-box",
      ui: "text",
      extras: "",
      headless: "1",
      hwid: this.o.hwid ?? "a1b2c3",
    });
    const res = await this.http(this.url("/server/config.php"), { method: "POST", body: form }, "config");
    if (res.status !== 200) throw new BadServerResponse(`config: HTTP ${res.status}`);
    const root = await xmlRoot(res, "config");
    const status = javaInt(required(root, "status", "config"), "config status");
    // The Java client reads publickey before it looks at the status: its absence is a crash.
    const publickey = required(root, "publickey", "config");
    if (status !== 0) return status;
    if (publickey !== "") this.password = publickey;
    this.paths = {};
    for (const r of (root.request as Array<Record<string, unknown>> | undefined) ?? []) {
      const type = required(r, "type", "request");
      this.paths[type] = required(r, "path", "request");
      if (r["max-period"] !== undefined) this.maxPeriod = javaInt(r["max-period"], "max-period");
    }
    if (this.dialect === "2024") {
      const missing = REQUIRED_2024.find((t) => !(t in this.paths));
      if (missing) throw new BadServerResponse(`Could not find endpoint for: ${missing}`);
    }
    const st = root.speedtest as Record<string, unknown> | undefined;
    this.speedtestTargets = ((st?.target as Array<Record<string, unknown>> | undefined) ?? []).map((t) =>
      required(t, "url", "target"),
    );
    if (this.speedtestTargets.length > 0) await this.sendSpeedtest();
    if (this.newer) await this.reportError(0, undefined, undefined, "start-up log: client ready");
    return 0;
  }

  /** Posts fake results for the mirrors (tests reach no outside host). */
  private async sendSpeedtest(): Promise<void> {
    const results = this.speedtestTargets
      .slice(0, 3)
      .map((t, i) => `<result target="${t}" speed="${700000 - i * 1000}" ping="${20 + i}"/>`)
      .join("");
    const res = await this.http(
      this.url(this.paths["speedtest-answer"] as string),
      { method: "POST", body: `<speedtest>${results}</speedtest>`, headers: { "Content-Type": "application/xml" } },
      "speedtest",
    );
    if (res.status !== 200) throw new BadServerResponse(`speedtest: HTTP ${res.status}`);
    await res.text();
  }

  /** md5s of the job archives held, as the `<cache>` body lists them. */
  cachedArchives(): string[] {
    return this.files.cachedArchives();
  }

  async requestJob(): Promise<JobRequestResult> {
    const q = new URLSearchParams({
      computemethod: String(this.o.computeMethod ?? 1),
      network_dl: "12500000",
      network_up: "2500000",
      cpu_cores: String(this.o.cores ?? 4),
      ram_max: String(this.o.ramKb ?? 16_000_000),
      rendertime_max: String(this.o.renderTimeMax ?? -1),
    });
    if (this.o.gpu) {
      q.set("gpu_model", this.o.gpu.model);
      q.set("gpu_ram", String(this.o.gpu.ramBytes));
      q.set("gpu_type", this.o.gpu.type);
    }
    let init: RequestInit = { method: "POST" };
    if (this.dialect !== "2024") {
      const cached = this.cachedArchives();
      const body =
        cached.length === 0 ? "<cache/>" : `<cache>${cached.map((m) => `<file md5="${m}"/>`).join("")}</cache>`;
      init = { method: "POST", body, headers: { "Content-Type": "application/xml" } };
    }
    const res = await this.http(`${this.url(this.paths["request-job"] as string)}?${q}`, init, "request_job");
    if (res.status !== 200) return { status: -res.status, deleted: [] };
    const root = await xmlRoot(res, "request_job");
    const status = javaInt(required(root, "status", "jobrequest"), "jobrequest status");
    const out: JobRequestResult = { status, deleted: [] };
    const stats = root.stats as Record<string, unknown> | undefined;
    if (stats) {
      out.stats = {};
      for (const a of ["credits_session", "credits_total", "frame_remaining", "waiting_project", "connected_machine"]) {
        out.stats[a] = javaInt(required(stats, a, "stats"), a);
      }
    }
    for (const f of (root.file as Array<Record<string, unknown>> | undefined) ?? []) {
      if (f.action === "delete") {
        const md5 = required(f, "md5", "file");
        fs.rmSync(path.join(this.files.archivesDir(), `${md5}.zip`), { force: true });
        fs.rmSync(path.join(this.files.archivesDir(), md5), { recursive: true, force: true });
        out.deleted.push(md5);
      }
    }
    const job = root.job as Record<string, unknown> | undefined;
    if (status === 0 && job) out.job = parseJob(job, this.dialect);
    return out;
  }

  /** Gets what the job needs (renderer once per md5, archive once per md5) and renders the frame. */
  render(job: JobOffer): Promise<RenderedFrame> {
    return this.files.render(job);
  }

  /** Sends a frame to its validation URL; retries on 302, 303, 5xx and connection errors. */
  async upload(r: RenderedFrame, bytes?: Buffer): Promise<number> {
    const data = bytes ?? fs.readFileSync(r.file);
    const speed = this.dialect === "2024" ? "&speedsamples=12.5" : "";
    const url = `${decodeURIComponent(r.job.validationUrl)}&rendertime=${r.renderSeconds}&memoryused=123456${speed}`;
    const delays = this.o.retryDelaysMs ?? [22_000, 44_000];
    for (let attempt = 0; ; attempt++) {
      let status = -1;
      let httpStatus = 0;
      try {
        const form = new FormData();
        form.append("file", new Blob([data], { type: "image/png" }), path.basename(r.file));
        const res = await this.http(url, { method: "POST", body: form }, "validation");
        httpStatus = res.status;
        if (res.status === 200)
          status = javaInt(required(await xmlRoot(res, "validation"), "status", "jobvalidate"), "status");
        else await res.text();
      } catch (err) {
        if (err instanceof BadServerResponse) throw err;
      }
      const retry = status === 302 || status === 303 || httpStatus >= 500 || httpStatus === 0;
      if (!retry || attempt >= delays.length) {
        this.uploads.push({ job: r.job.id, frame: r.job.frame, status, http: httpStatus });
        return status;
      }
      await new Promise((res) => setTimeout(res, delays[attempt]));
    }
  }

  async keepAlive(job?: JobOffer, paused = false): Promise<number> {
    const q = new URLSearchParams({ paused: String(paused) });
    if (job) {
      q.set("job", job.id);
      q.set("frame", job.frame);
      q.set("rendertime", "10");
      q.set("remainingtime", "20");
    }
    const res = await this.http(`${this.url(this.paths.keepmealive as string)}?${q}`, {}, "keepmealive");
    if (res.status !== 200) return -res.status;
    return javaInt(required(await xmlRoot(res, "keepmealive"), "status", "keepmealive"), "status");
  }

  async reportError(type: number | "", job?: string, frame?: string, log = "", memoryKb?: number): Promise<number> {
    const q = new URLSearchParams({ type: String(type) });
    if (job) q.set("job", job);
    if (frame) q.set("frame", frame);
    q.set("render_time", "5");
    if (memoryKb !== undefined) q.set("memoryused", String(memoryKb));
    const form = new FormData();
    form.append("file", new Blob([log], { type: "text/plain" }), "log.txt");
    const res = await this.http(
      `${this.url(this.paths.error as string)}?${q}`,
      { method: "POST", body: form },
      "error",
    );
    if (res.status !== 200) return -res.status;
    return javaInt(required(await xmlRoot(res, "error"), "status", "error"), "status");
  }

  async logout(): Promise<void> {
    const res = await this.http(this.url(this.paths.logout as string), {}, "logout");
    await res.text();
  }

  /**
   * The client's main loop, bounded: ask, render, upload (in the background for newer clients);
   * 200 → back off (`idleMs` instead of minutes), 202 → log in again and ask at once, 201/203/205
   * and a failed login → stop. Ends after `maxRequests` requests or when `done()` says so.
   */
  async run(opts: { maxRequests: number; idleMs?: number; done?: () => Promise<boolean> | boolean }): Promise<number> {
    let last = 0;
    for (let n = 0; n < opts.maxRequests; n++) {
      if (opts.done && (await opts.done())) break;
      const r = await this.requestJob();
      last = r.status;
      if (r.status === 0 && r.job) {
        const job = r.job;
        try {
          const frame = await this.render(job);
          const up = this.upload(frame);
          if (this.newer && job.synchronousUpload !== "1") {
            const p = up.finally(() => this.pending.delete(p));
            this.pending.add(p);
          } else await up;
        } catch (err) {
          if (!(err instanceof RenderFailed)) throw err;
          await this.reportError(err.type, job.id, job.frame, err.message);
        }
      } else if (r.status === 202) {
        const s = await this.login();
        if (s !== 0) return s;
      } else if (r.status === 200 || r.status === 206 || r.status === 207 || r.status < 0) {
        await new Promise((res) => setTimeout(res, opts.idleMs ?? 50));
      } else return r.status;
    }
    await this.flush();
    return last;
  }

  /** Waits for background uploads. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
