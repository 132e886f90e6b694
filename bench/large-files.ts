import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { SESSION_COOKIE } from "../adapters/sheepit/app.js";
import { parseBytes } from "../src/app/config.js";
import { renderClientsOf } from "../src/app/render-clients.js";
import { createHttpApp } from "../src/app/server.js";
import { type JobOffer, SheepItClient } from "../test/simulators/sheepit-client.js";
import {
  type BenchFarm,
  createBenchFarm,
  listen,
  type MemoryPeak,
  prepareSheepit,
  printTable,
  withMemoryPeak,
} from "./support.js";

/**
 * Large files through the SheepIt routes, with the gateway in this process, measuring this
 * process's RSS and heap every 10 ms (the client side streams too: bodies go to a hash, uploads
 * come from a generator, never a Buffer of the whole file):
 * - for each size of BENCH_LARGE_SIZES ("64MB,1GB,2GB"): a job whose blend folder holds
 *   scene.blend and textures/big.exr of that size (a 1 MiB random block repeated; `.exr` so the
 *   builder stores it, as it does real image textures); a SheepIt client's request_job builds the
 *   archive (zip streamed to disk, MD5 while writing); then archive.php is downloaded whole
 *   (Content-Length and MD5 checked against archive_md5) and as a Range of its middle half
 *   (206, bytes checked against the file), and then as 2024 clients get it: every chunk of the
 *   `<job>`'s `<chunks>` through chunk.php (SHEEPIT_CHUNK_SIZE, 16 MB), each checked against its md5.
 * - uploads to the frame's validation URL: BENCH_LARGE_UPLOAD (300MB, under UPLOAD_MAX) of bytes
 *   that are no image (streamed to disk, then refused with status 302), and UPLOAD_MAX + 64 MB
 *   (HTTP 413, status 303); both chunked (no Content-Length), so the cap is met while streaming.
 * Every file is removed after its size; at most about 2 × the largest size is on disk at once.
 */

const MiB = 2 ** 20;
const SIZES = (process.env.BENCH_LARGE_SIZES ?? "64MB,1GB,2GB").split(",").map((s) => {
  const n = parseBytes(s);
  if (!n) throw new Error(`BENCH_LARGE_SIZES: "${s}" is not a size`);
  return n;
});
const UPLOAD = parseBytes(process.env.BENCH_LARGE_UPLOAD ?? "300MB") ?? 300 * MiB;
const PASSWORD = "bench-password";
const BLOCK = randomBytes(MiB);

interface Row {
  what: string;
  bytes: number;
  seconds: number;
  memory: MemoryPeak;
}

/** `size` bytes of BLOCK repeated, as chunks of at most 1 MiB. */
function* blocks(size: number): Generator<Uint8Array> {
  for (let left = size; left > 0; left -= MiB) yield left >= MiB ? BLOCK : BLOCK.subarray(0, left);
}

async function writeBig(file: string, size: number): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const fh = await fsp.open(file, "w");
  try {
    for (const b of blocks(size)) await fh.write(b);
  } finally {
    await fh.close();
  }
}

/** Reads a response body chunk by chunk into an MD5: bytes counted, nothing kept. */
async function drain(res: Response): Promise<{ bytes: number; md5: string }> {
  const md5 = createHash("md5");
  let bytes = 0;
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    md5.update(value);
  }
  return { bytes, md5: md5.digest("hex") };
}

async function fileRangeMd5(file: string, start: number, end: number): Promise<string> {
  const md5 = createHash("md5");
  for await (const chunk of fs.createReadStream(file, { start, end })) md5.update(chunk as Buffer);
  return md5.digest("hex");
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; memory: MemoryPeak }> {
  const t0 = performance.now();
  const { value, memory } = await withMemoryPeak(fn, 10);
  return { value, seconds: (performance.now() - t0) / 1000, memory };
}

function cookieOf(client: SheepItClient): string {
  return [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
}

/** request_job until a frame is offered (a build longer than the gateway's wait answers "no job"). */
async function offer(client: SheepItClient): Promise<JobOffer> {
  for (let i = 0; i < 600; i++) {
    const r = await client.requestJob();
    if (r.job) return r.job;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("no frame offered");
}

async function submit(bf: BenchFarm, dir: string, name: string, frames: string): Promise<string> {
  const job = await bf.farm.jobs.submit({
    type: "simple-blender-render",
    name,
    priority: 50,
    settings: {
      blender_cmd: "{blender}",
      filepath: path.join(dir, "scene.blend"),
      render_output: path.join(bf.storageRoot, "frames", name, "######"),
      frames,
      chunk_size: 1,
      format: "PNG",
      output_file_extension: ".png",
      images_or_video: "images",
    },
    metadata: {},
  });
  return job.id;
}

/** A multipart body streamed from a generator: the part `file` holds `size` bytes of BLOCK. */
function multipartBody(size: number, boundary: string): ReadableStream<Uint8Array> {
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="frame.png"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const parts = (function* () {
    yield head;
    yield* blocks(size);
    yield tail;
  })();
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = parts.next();
      if (next.done) controller.close();
      // A view of its own each time: the same bytes, never copied.
      else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    },
  });
}

async function upload(client: SheepItClient, job: JobOffer, size: number): Promise<{ http: number; status: string }> {
  const boundary = `----bench${randomBytes(8).toString("hex")}`;
  const url = `${decodeURIComponent(job.validationUrl)}&rendertime=1&memoryused=1`;
  const res = await fetch(url, {
    method: "POST",
    headers: { Cookie: cookieOf(client), "Content-Type": `multipart/form-data; boundary=${boundary}` },
    body: multipartBody(size, boundary),
    duplex: "half",
  } as RequestInit);
  const text = await res.text();
  return { http: res.status, status: /status="(\d+)"/.exec(text)?.[1] ?? "?" };
}

async function freeBytes(dir: string): Promise<number> {
  const st = await fsp.statfs(dir);
  return st.bavail * st.bsize;
}

export async function run(): Promise<void> {
  const biggest = Math.max(...SIZES);
  const bf = createBenchFarm("large", {
    ARCHIVE_MAX: `${Math.ceil((biggest + 64 * MiB) / MiB)}MB`,
    SHEEPIT_LEASE: "30m",
  });
  const uploadMax = bf.farm.config.UPLOAD_MAX;
  const free = await freeBytes(bf.storageRoot);
  const needed = 2 * biggest + uploadMax + 256 * MiB;
  process.stdout.write(
    `free disk ${(free / 2 ** 30).toFixed(1)} GiB at ${bf.storageRoot}; at most ${(needed / 2 ** 30).toFixed(1)} GiB at once\n`,
  );
  if (needed > free * 0.8) throw new Error("not enough free disk for BENCH_LARGE_SIZES");
  const rows: Row[] = [];
  const rc = renderClientsOf(bf.farm);
  const server = await listen(createHttpApp(bf.farm).fetch);
  (bf.farm.config as { publicUrl: string }).publicUrl = server.url;
  try {
    const scratch = await prepareSheepit(bf, "bench", PASSWORD);
    const client = new SheepItClient({
      url: server.url,
      login: "bench",
      password: PASSWORD,
      workDir: path.join(scratch, "client"),
    });
    if ((await client.login()) !== 0) throw new Error("login failed");
    const archivesDir = path.join(bf.farm.config.dataDir, "archives");

    // A 1 MB round first, not reported: first use of zip.js, fetch and the routes costs memory once.
    for (const [k, size] of [MiB, ...SIZES].entries()) {
      const label = k === 0 ? "warm-up" : `${Math.round(size / MiB)}MB`;
      const record = (row: Row) => {
        if (k > 0) rows.push(row);
      };
      const dir = path.join(bf.storageRoot, `project-${label}`);
      await writeBig(path.join(dir, "textures", "big.exr"), size);
      fs.writeFileSync(path.join(dir, "scene.blend"), "BLENDER".repeat(1000));
      const jobId = await submit(bf, dir, `large-${label}`, "1-3");

      const built = await timed(() => offer(client));
      const job = built.value;
      const archive = await rc.service.archiveFile(client.cookies.get(SESSION_COOKIE), "job", Number(job.id));
      if (archive.md5 !== job.archiveMd5) throw new Error("archive md5 differs from the offer's");
      record({
        what: "archive build (request_job)",
        bytes: archive.size,
        seconds: built.seconds,
        memory: built.memory,
      });

      const archiveUrl = `${server.url}/server/archive.php?type=job&job=${job.id}`;
      const whole = await timed(async () => {
        const res = await fetch(archiveUrl, { headers: { Cookie: cookieOf(client) } });
        const length = Number(res.headers.get("content-length"));
        return { status: res.status, length, ...(await drain(res)) };
      });
      const w = whole.value;
      if (w.status !== 200 || w.length !== archive.size || w.bytes !== archive.size || w.md5 !== job.archiveMd5) {
        throw new Error(`whole download: HTTP ${w.status}, length ${w.length}, ${w.bytes} bytes, md5 ${w.md5}`);
      }
      record({ what: "archive.php download, whole", bytes: w.bytes, seconds: whole.seconds, memory: whole.memory });

      const start = Math.floor(archive.size / 4);
      const end = start + Math.floor(archive.size / 2) - 1;
      const ranged = await timed(async () => {
        const res = await fetch(archiveUrl, { headers: { Cookie: cookieOf(client), Range: `bytes=${start}-${end}` } });
        return { status: res.status, range: res.headers.get("content-range"), ...(await drain(res)) };
      });
      const r = ranged.value;
      const expected = await fileRangeMd5(archive.file, start, end);
      if (r.status !== 206 || r.range !== `bytes ${start}-${end}/${archive.size}` || r.md5 !== expected) {
        throw new Error(`range download: HTTP ${r.status}, ${r.range}, ${r.bytes} bytes`);
      }
      record({
        what: "archive.php download, middle half (206)",
        bytes: r.bytes,
        seconds: ranged.seconds,
        memory: ranged.memory,
      });

      // 2024 clients: every chunk through chunk.php, one after the other, each checked against its md5.
      const chunked = await timed(async () => {
        let bytes = 0;
        for (const ch of job.chunks) {
          const res = await fetch(`${server.url}/server/chunk.php?chunk=${ch.id}`, {
            headers: { Cookie: cookieOf(client) },
          });
          const d = await drain(res);
          if (res.status !== 200 || d.md5 !== ch.md5)
            throw new Error(`chunk ${ch.id}: HTTP ${res.status}, md5 ${d.md5}`);
          bytes += d.bytes;
        }
        return bytes;
      });
      if (chunked.value !== archive.size) throw new Error(`chunks: ${chunked.value} bytes, not ${archive.size}`);
      record({
        what: "chunk.php download, every chunk (16 MB each)",
        bytes: chunked.value,
        seconds: chunked.seconds,
        memory: chunked.memory,
      });

      await bf.farm.jobs.setStatus(jobId, "cancel-requested");
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(archivesDir, { recursive: true, force: true });
    }

    // Uploads, each to a frame of its own (a refused upload fails its frame).
    const dir = path.join(bf.storageRoot, "project-upload");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "scene.blend"), "BLENDER".repeat(1000));
    await submit(bf, dir, "large-upload", "1-4");
    const cases: Array<[what: string, size: number, http: number, status: string]> = [
      ["upload, not an image (refused after the check)", UPLOAD, 200, "302"],
      ["upload over UPLOAD_MAX (chunked)", uploadMax + 64 * MiB, 413, "303"],
    ];
    for (const [what, size, http, status] of cases) {
      const job = await offer(client);
      const up = await timed(() => upload(client, job, size));
      if (up.value.http !== http || up.value.status !== status) {
        throw new Error(`${what}: HTTP ${up.value.http} status ${up.value.status}, expected ${http} ${status}`);
      }
      rows.push({
        what: `${what}: HTTP ${http}, status ${status}`,
        bytes: size,
        seconds: up.seconds,
        memory: up.memory,
      });
    }
  } finally {
    await server.close();
    await bf.close();
  }

  printTable(
    "Large files through the SheepIt routes (gateway and client in this process; memory sampled every 10 ms)",
    ["what", "size MB", "seconds", "MB/s", "RSS before MB", "RSS peak MB", "heap peak MB"],
    rows.map((row) => [
      row.what,
      row.bytes / MiB,
      row.seconds,
      row.bytes / MiB / row.seconds,
      row.memory.rssBeforeMb,
      row.memory.rssPeakMb,
      row.memory.heapPeakMb,
    ]),
  );
  // RSS after a full GC moves by tens of MB between rounds (freed pages go back to the system or
  // not), so growth is counted from one baseline: the lowest post-GC RSS of the run.
  const base = Math.min(...rows.map((r) => r.memory.rssBeforeMb));
  const growth = (row: Row) => Math.max(1, row.memory.rssPeakMb - base);
  const lines = [`RSS growth = RSS peak - ${base} MB (the lowest RSS after a full GC in this run)`];
  for (const what of [...new Set(rows.map((r) => r.what))]) {
    const of = rows.filter((r) => r.what === what);
    const small = of[0];
    const large = of[of.length - 1];
    if (of.length < 2 || !small || !large) continue;
    lines.push(
      `${what}: RSS growth ${of.map((r) => `${growth(r).toFixed(0)} MB at ${Math.round(r.bytes / MiB)} MB`).join(", ")}; ` +
        `largest vs smallest ${(growth(large) / growth(small)).toFixed(2)} for ×${(large.bytes / small.bytes).toFixed(0)} the size`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
