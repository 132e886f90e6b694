import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BlobReader, configure, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { XMLParser } from "fast-xml-parser";
import { Agent } from "undici";
import { assembleChunks, type ChunkRef, downloadChunk, projectName, saveIfMd5 } from "./sheepit-chunks.js";

/**
 * A SheepIt client as the Java client behaves on the wire (../shared/specs/sheepit-client-behaviour.md):
 * a cookie jar; config as a form POST; request-job with its parameters in the query string and a
 * `<cache>` XML body; every XML answer must be `text/xml` and carry the attributes the Java parser
 * requires (it throws otherwise); archives checked against lowercase MD5s and unpacked once; the
 * renderer's `rend.exe` run with the command line split on spaces; the validation URL
 * percent-decoded with `&rendertime=N&memoryused=KB` appended and the frame sent as the multipart
 * part `file`; the start-up log (error type 0) after login; re-login with the `publickey` after 202.
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

configure({ useWebWorkers: false });

export class BadServerResponse extends Error {
  override name = "BadServerResponse";
}

export interface ClientOptions {
  url: string;
  login: string;
  password: string;
  workDir: string;
  version?: string;
  os?: string;
  bits?: string;
  hostname?: string;
  hwid?: string;
  cores?: number;
  ramKb?: number;
  /** 0 CPU+GPU, 1 CPU, 2 GPU. */
  computeMethod?: 0 | 1 | 2;
  gpu?: { type: string; model: string; ramBytes: number };
  /** -1 when unset, as real clients send it. */
  renderTimeMax?: number;
  /** The client generation (default "2022"). */
  dialect?: SheepItDialect;
  /** Newer clients: start-up log after login, background uploads (default: all but the 2020 dialect). */
  newer?: boolean;
  /** Environment for rend.exe (the fake renderer reads FAKE_RENDER_* from it). */
  renderEnv?: Record<string, string>;
  /** Skip rend.exe and write `instantImage` as the frame (benchmarks). */
  instantImage?: Buffer;
  /** Delays of the upload retries (real clients: 22 s then 44 s). */
  retryDelaysMs?: number[];
  /** Hook to observe every HTTP exchange (path, status, ms). */
  onExchange?: (what: string, ms: number) => void;
  /**
   * Every host name resolves to this address, as for a client whose DNS points `farm.example.org`
   * at the gateway: URLs (and so the Host header) keep the name, connections go here.
   */
  resolveTo?: string;
  /** Headers sent with every request (as a proxy in front of the gateway would add them). */
  headers?: Record<string, string>;
}

export type SheepItDialect = "2020" | "2022" | "2024";

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

export interface JobOffer {
  id: string;
  useGpu: number;
  /** `archive_md5` ("" when absent: 2024 clients do not need it). */
  archiveMd5: string;
  /** `<chunks>` (empty when absent: older clients do not read it). */
  chunks: ChunkRef[];
  path: string;
  frame: string;
  synchronousUpload: string;
  validationUrl: string;
  name: string;
  password: string;
  renderer: { md5: string; commandline: string; updateMethod: string };
  script: string;
}

export interface JobRequestResult {
  status: number;
  stats?: Record<string, number>;
  job?: JobOffer;
  deleted: string[];
}

export interface RenderedFrame {
  job: JobOffer;
  file: string;
  renderSeconds: number;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name) => ["request", "file", "target", "chunk"].includes(name),
});

/** Java's Integer.parseInt: throws on anything but a 32-bit decimal integer. */
function javaInt(v: unknown, what: string): number {
  if (typeof v !== "string" || !/^[-+]?\d+$/.test(v))
    throw new BadServerResponse(`${what}: "${String(v)}" is not an int`);
  const n = Number(v);
  if (n < -(2 ** 31) || n > 2 ** 31 - 1) throw new BadServerResponse(`${what}: ${v} does not fit a Java int`);
  return n;
}

function required(node: Record<string, unknown>, attr: string, where: string): string {
  const v = node[attr];
  if (typeof v !== "string") throw new BadServerResponse(`<${where}> lacks the required attribute ${attr}`);
  return v;
}

export class SheepItClient {
  readonly cookies = new Map<string, string>();
  password: string;
  paths: Record<string, string> = {};
  maxPeriod: number | undefined;
  speedtestTargets: string[] = [];
  /** Statuses of every upload, in order. */
  readonly uploads: Array<{ job: string; frame: string; status: number; http: number }> = [];
  /** Every archive or chunk downloaded (a cached one is not downloaded again). */
  readonly downloads: Array<{ type: "binary" | "job" | "chunk"; job: string; md5: string }> = [];
  /** 2024: each project put together from its chunks, with the md5 of the whole. */
  readonly assembled: Array<{ job: string; md5: string; chunks: number }> = [];
  readonly dialect: SheepItDialect;
  private readonly newer: boolean;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly dispatcher: Agent | undefined;

  constructor(readonly o: ClientOptions) {
    this.password = o.password;
    this.dialect = o.dialect ?? "2022";
    this.newer = o.newer ?? this.dialect !== "2020";
    const to = o.resolveTo;
    if (to) {
      const family = to.includes(":") ? 6 : 4;
      this.dispatcher = new Agent({
        connect: {
          lookup: (_host, opts, cb) =>
            (opts as { all?: boolean }).all
              ? (cb as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
                  { address: to, family },
                ])
              : cb(null, to, family),
        },
      });
    }
    fs.mkdirSync(o.workDir, { recursive: true });
  }

  private async http(url: string, init: RequestInit = {}, what = url): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(this.o.headers ?? {})) headers.set(k, v);
    headers.set("User-Agent", "Java/11.0.20");
    headers.set("Accept-Encoding", "gzip");
    if (this.cookies.size > 0) headers.set("Cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const started = performance.now();
    const res = await fetch(url, {
      ...init,
      headers,
      redirect: "follow",
      signal: AbortSignal.timeout(60_000),
      ...(this.dispatcher ? ({ dispatcher: this.dispatcher } as object) : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair?.indexOf("=") ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    this.o.onExchange?.(what, performance.now() - started);
    return res;
  }

  /** A request with this client's cookies (`p` a path on the server or an absolute URL). */
  raw(p: string, init: RequestInit = {}): Promise<Response> {
    return this.http(p.startsWith("http") ? p : this.url(p), init, "raw");
  }

  private async xml(res: Response, what: string): Promise<Record<string, unknown>> {
    const type = res.headers.get("content-type") ?? "";
    if (!type.startsWith("text/xml")) throw new BadServerResponse(`${what}: content type "${type}" is not text/xml`);
    const text = await res.text();
    const doc = parser.parse(text) as Record<string, unknown>;
    const rootName = Object.keys(doc).find((k) => k !== "?xml");
    if (!rootName) throw new BadServerResponse(`${what}: empty XML document`);
    return doc[rootName] as Record<string, unknown>;
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
    const root = await this.xml(res, "config");
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

  private archivesDir(): string {
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
    const root = await this.xml(res, "request_job");
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
        fs.rmSync(path.join(this.archivesDir(), `${md5}.zip`), { force: true });
        fs.rmSync(path.join(this.archivesDir(), md5), { recursive: true, force: true });
        out.deleted.push(md5);
      }
    }
    const job = root.job as Record<string, unknown> | undefined;
    if (status === 0 && job) out.job = this.parseJob(job);
    return out;
  }

  private parseJob(j: Record<string, unknown>): JobOffer {
    const id = required(j, "id", "job");
    javaInt(id, "job id");
    const r = j.renderer as Record<string, unknown> | undefined;
    if (!r) throw new BadServerResponse("<job> lacks <renderer>");
    const script = j.script;
    const scriptText =
      typeof script === "string" ? script : ((script as Record<string, unknown> | undefined)?.["#text"] as string);
    if (typeof scriptText !== "string" || scriptText.trim() === "")
      throw new BadServerResponse("<job> lacks a non-empty <script>");
    if (this.dialect !== "2024") required(j, "extras", "job");
    const chunkList = (j.chunks as Record<string, unknown> | undefined)?.chunk as
      | Array<Record<string, unknown>>
      | undefined;
    const chunks = (chunkList ?? []).map((c) => ({ id: required(c, "id", "chunk"), md5: required(c, "md5", "chunk") }));
    if (this.dialect === "2024" && chunks.length === 0) throw new BadServerResponse("<job> lacks <chunks>");
    return {
      id,
      useGpu: javaInt(required(j, "use_gpu", "job"), "use_gpu"),
      archiveMd5: this.dialect === "2024" ? String(j.archive_md5 ?? "") : required(j, "archive_md5", "job"),
      chunks,
      path: required(j, "path", "job"),
      frame: required(j, "frame", "job"),
      synchronousUpload: required(j, "synchronous_upload", "job"),
      validationUrl: required(j, "validation_url", "job"),
      name: required(j, "name", "job"),
      password: required(j, "password", "job"),
      renderer: {
        md5: required(r, "md5", "renderer"),
        commandline: required(r, "commandline", "renderer"),
        updateMethod: required(r, "update_method", "renderer"),
      },
      script: scriptText,
    };
  }

  /** Downloads `archive.php?type=...&job=...` to `dest` and checks its MD5 (lowercase, case-sensitive). */
  private async download(type: "binary" | "job", jobId: string, md5: string, dest: string): Promise<void> {
    this.downloads.push({ type, job: jobId, md5 });
    const url =
      this.dialect === "2024"
        ? `${this.url(this.paths["download-binary"] as string)}?job=${jobId}`
        : `${this.url(this.paths["download-archive"] as string)}?type=${type}&job=${jobId}`;
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
        const chunkUrl = this.url(this.paths["download-chunk"] as string);
        const { md5 } = await assembleChunks(job.chunks, path.join(this.o.workDir, "chunks"), zip, async (c, dest) => {
          this.downloads.push({ type: "chunk", job: job.id, md5: c.md5 });
          await downloadChunk(await this.http(`${chunkUrl}?chunk=${c.id}`, {}, "chunk"), c.md5, dest);
        });
        this.assembled.push({ job: job.id, md5, chunks: job.chunks.length });
      }
    }
    await this.unzip(zip, unpacked, job.password);
    return unpacked;
  }

  private async unzip(zip: string, dir: string, password: string): Promise<void> {
    if (fs.existsSync(path.join(dir, ".unpacked"))) return;
    fs.mkdirSync(dir, { recursive: true });
    const reader = new ZipReader(new BlobReader(await fs.openAsBlob(zip)));
    for (const e of await reader.getEntries()) {
      const target = path.resolve(dir, e.filename);
      if (!target.startsWith(path.resolve(dir) + path.sep))
        throw new BadServerResponse(`zip entry ${e.filename} leaves its folder`);
      if (e.directory) {
        fs.mkdirSync(target, { recursive: true });
        continue;
      }
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const data = await e.getData?.(new Uint8ArrayWriter(), e.encrypted ? { password } : {});
      fs.writeFileSync(target, data ?? new Uint8Array());
    }
    await reader.close();
    fs.writeFileSync(path.join(dir, ".unpacked"), "");
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
      await this.unzip(zip, rendDir, "");
      fs.chmodSync(path.join(rendDir, "rend.exe"), 0o755);
    }
    const unpacked = await this.project(job);
    const script = path.join(workDir, "script.py");
    fs.writeFileSync(script, `${job.script}\nsheepit_set_compute_device("NONE", "CPU", "CPU")\n`);
    const args: string[] = [];
    let exe = "";
    for (const part of job.renderer.commandline.split(" ")) {
      if (part === ".e") exe = path.join(rendDir, "rend.exe");
      else if (part === ".c") args.push(path.join(unpacked, job.path), "-P", script);
      else if (part === ".o") args.push(path.join(workDir, `${job.id}_`));
      else if (part === ".f") args.push(job.frame);
      else args.push(part);
    }
    if (!exe) throw new BadServerResponse("the command line has no .e");
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(exe, args, { env: { ...process.env, ...this.o.renderEnv }, stdio: "ignore" });
      child.on("error", reject);
      child.on("exit", (c) => resolve(c ?? 1));
    });
    if (code !== 0) throw new RenderFailed(12, `rend.exe exited with ${code}`, job);
    const out = fs.readdirSync(workDir).find((f) => f.startsWith(`${job.id}_${job.frame}`));
    if (!out) throw new RenderFailed(8, "no output file", job);
    return {
      job,
      file: path.join(workDir, out),
      renderSeconds: Math.max(1, Math.round((performance.now() - started) / 1000)),
    };
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
          status = javaInt(required(await this.xml(res, "validation"), "status", "jobvalidate"), "status");
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
    return javaInt(required(await this.xml(res, "keepmealive"), "status", "keepmealive"), "status");
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
    return javaInt(required(await this.xml(res, "error"), "status", "error"), "status");
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

export class RenderFailed extends Error {
  override name = "RenderFailed";
  constructor(
    readonly type: number,
    message: string,
    readonly job: JobOffer,
  ) {
    super(message);
  }
}
