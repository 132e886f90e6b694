import { createHash } from "node:crypto";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkAttrs, REQUEST_TYPES } from "../contracts/sheepit/index.js";
import type { SheepItClient } from "./simulators/sheepit-client.js";
import { waitFor } from "./support/farm.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

/**
 * SheepIt clients of 2023 onwards (sheepit-protocol-2024.md) against the gateway: the config
 * answer names download-binary and download-chunk, request-job has no `<cache>` body, the project
 * comes as `<chunks>` (1 KB each here, so a scene's archive is several), each chunk by its id with
 * Content-Length and Range, shared by md5 between jobs with the same files.
 */

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

describe("SheepIt 2024 clients", () => {
  let gw: SheepitGateway;

  beforeAll(async () => {
    gw = await startSheepitGateway("sheepit-2024", { SHEEPIT_CHUNK_SIZE: "1KB" });
  });
  afterAll(async () => {
    await gw?.close();
  });

  /** A logged-in 2024 client holding a frame of a fresh one-frame job; answers its offer and the job's archive. */
  async function holding(name: string) {
    const job = await gw.submit(name, { frames: "1" });
    const c = gw.client(name, { dialect: "2024" });
    expect(await c.login()).toBe(0);
    const offer = (await c.requestJob()).job;
    if (!offer) throw new Error("no job offered");
    const archive = await gw.rc.service.archiveFile(c.cookies.get("bw_sheepit"), "job", job.sheepitId);
    return { c, job, offer, archive, bytes: fs.readFileSync(archive.file) };
  }

  const chunkUrl = (id: string) => `/server/chunk.php?chunk=${id}`;

  it("two 2024 clients render a 12-frame job to completed from chunks they check and put together", async () => {
    const job = await gw.submit("chunked12");
    const a = gw.client("c24-a", { dialect: "2024" });
    const b = gw.client("c24-b", { dialect: "2024" });
    // login() throws "Could not find endpoint for: <type>" when a 2024 type is missing.
    expect(await a.login()).toBe(0);
    expect(await b.login()).toBe(0);
    // Both generations' types are listed: older clients find download-archive in the same answer.
    expect(Object.keys(a.paths).sort()).toEqual([...REQUEST_TYPES].sort());

    const done = async () => (await gw.farm.jobs.get(job.id)).status === "completed";
    await Promise.all([a.run({ maxRequests: 40, done }), b.run({ maxRequests: 40, done })]);
    await waitFor(done);

    const uploads = [...a.uploads, ...b.uploads];
    expect(uploads.map((u) => u.status)).toEqual(uploads.map(() => 0));
    expect(uploads.map((u) => u.frame).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => String(i + 1).padStart(4, "0")),
    );
    expect(await gw.farm.jobs.get(job.id)).toMatchObject({ status: "completed", completedFrames: 12, failedFrames: 0 });

    // Each client put the project together once from its chunks; the whole is the job's archive.
    const archive = await gw.rc.service.archiveFile(a.cookies.get("bw_sheepit"), "job", job.sheepitId);
    for (const c of [a, b]) {
      expect(c.assembled).toHaveLength(1);
      expect(c.assembled[0]?.md5).toBe(archive.md5);
      expect(c.assembled[0]?.chunks).toBe(Math.ceil(archive.size / 1024));
      expect(c.assembled[0]?.chunks).toBeGreaterThan(1);
      // Only chunks and the renderer (through download-binary) were downloaded, never archive.php.
      expect(c.downloads.filter((d) => d.type === "job")).toHaveLength(0);
      expect(c.downloads.filter((d) => d.type === "binary")).toHaveLength(1);
      expect(c.downloads.filter((d) => d.type === "chunk")).toHaveLength(c.assembled[0]?.chunks ?? -1);
    }
  });

  it("a <job> carries archive_md5 and <chunks>: ids usable as they are, md5s of the archive's 1 KB pieces", async () => {
    const { offer, archive, bytes } = await holding("shape");
    expect(offer.archiveMd5).toBe(archive.md5);
    for (const ch of offer.chunks) expect(ChunkAttrs.safeParse(ch).success).toBe(true);
    const expected = [];
    for (let at = 0; at < bytes.length; at += 1024) expected.push(md5(bytes.subarray(at, at + 1024)));
    expect(offer.chunks.map((c) => c.md5)).toEqual(expected);
    expect(offer.chunks.map((c) => c.id)).toEqual(expected);
  });

  it("download-chunk answers Content-Length, one Range of the chunk (206/416) and HEAD", async () => {
    const { c, offer, bytes } = await holding("ranges");
    const second = offer.chunks[1] as { id: string; md5: string };
    const piece = bytes.subarray(1024, 2048);

    const whole = await c.raw(chunkUrl(second.id));
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-length")).toBe("1024");
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    const body = new Uint8Array(await whole.arrayBuffer());
    expect(md5(body)).toBe(second.md5);
    expect(Buffer.from(body).equals(piece)).toBe(true);

    const part = await c.raw(chunkUrl(second.id), { headers: { Range: "bytes=100-199" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-length")).toBe("100");
    expect(part.headers.get("content-range")).toBe("bytes 100-199/1024");
    expect(Buffer.from(await part.arrayBuffer()).equals(piece.subarray(100, 200))).toBe(true);

    const tail = await c.raw(chunkUrl(second.id), { headers: { Range: "bytes=-24" } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(piece.subarray(1000))).toBe(true);

    const last = offer.chunks.at(-1) as { id: string; md5: string };
    const lastSize = bytes.length - 1024 * (offer.chunks.length - 1);
    const head = await c.raw(chunkUrl(last.id), { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(lastSize));
    expect(await head.text()).toBe("");

    const beyond = await c.raw(chunkUrl(second.id), { headers: { Range: "bytes=1024-" } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */1024");
    await beyond.text();
  });

  it("jobs with the same files share their chunks: one archive on disk, downloaded once by a client", async () => {
    const first = await gw.submit("shared-a", { frames: "1" });
    const second = await gw.submit("shared-b", { frames: "1", filepath: first.settings.filepath });
    const c: SheepItClient = gw.client("sharer", { dialect: "2024" });
    expect(await c.login()).toBe(0);
    await c.run({ maxRequests: 2 });
    const done = async () =>
      (await gw.farm.jobs.get(first.id)).status === "completed" &&
      (await gw.farm.jobs.get(second.id)).status === "completed";
    await waitFor(done);
    expect(new Set(c.uploads.map((u) => u.job))).toEqual(new Set([String(first.sheepitId), String(second.sheepitId)]));
    const cookie = c.cookies.get("bw_sheepit");
    const a = await gw.rc.service.archiveFile(cookie, "job", first.sheepitId);
    const b = await gw.rc.service.archiveFile(cookie, "job", second.sheepitId);
    // Stored once: the same zip file serves both jobs (and so both chunk lists).
    expect(b.file).toBe(a.file);
    expect(b.md5).toBe(a.md5);
    // The job rendered second found all its chunks in the client's cache: none was downloaded again.
    const chunks = c.downloads.filter((d) => d.type === "chunk");
    expect(chunks.length).toBe(Math.ceil(a.size / 1024));
    expect(new Set(chunks.map((d) => d.job)).size).toBe(1);
    expect(c.assembled).toHaveLength(1);
    // Each job's chunk is served to the client through either job.
    const id = chunks[0]?.md5 as string;
    expect((await c.raw(chunkUrl(id), { method: "HEAD" })).status).toBe(200);
  });

  it("keepmealive with `paused` only: 0 while the session's job runs, 400 once it is canceled", async () => {
    const { c, job } = await holding("alive-2024");
    expect(await c.keepAlive()).toBe(0);
    expect(await c.keepAlive(undefined, true)).toBe(0);
    const res = await fetch(`${gw.url}/api/jobs/${job.id}/setstatus`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ status: "cancel-requested", reason: "test" }),
    });
    expect(res.status).toBe(204);
    expect(await c.keepAlive()).toBe(400);
  });

  it("bad, unknown and foreign chunk ids are 404 in XML, never a 500", async () => {
    const { c, offer } = await holding("bad-ids");
    const stranger = gw.client("stranger", { dialect: "2024" });
    expect(await stranger.login()).toBe(0);
    const real = (offer.chunks[0] as { id: string }).id;
    const cases: Array<[SheepItClient | null, string, number]> = [
      [c, "/server/chunk.php", 404],
      [c, "/server/chunk.php?chunk=", 404],
      [c, "/server/chunk.php?chunk=xyz", 404],
      [c, `/server/chunk.php?chunk=${real.toUpperCase()}`, 404],
      [c, `/server/chunk.php?chunk=${"0".repeat(32)}`, 404],
      [c, `/server/chunk.php?chunk=${real}%00`, 404],
      [c, `/server/chunk.php?chunk=${"../".repeat(12)}etc/passwd`, 404],
      // A chunk of a job the session was never given, and no session at all.
      [stranger, chunkUrl(real), 404],
      [null, chunkUrl(real), 404],
      [c, "/server/binary.php?job=abc", 404],
      [c, "/server/binary.php?job=999999", 404],
    ];
    for (const [who, url, status] of cases) {
      const res = who ? await who.raw(url) : await fetch(gw.url + url);
      expect(res.status, url).toBe(status);
      expect(res.headers.get("content-type"), url).toMatch(/^text\/xml/);
      expect(await res.text(), url).toMatch(/<error status="404"\/>/);
    }
    const post = await c.raw(chunkUrl(real), { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("content-type")).toMatch(/^text\/xml/);
    await post.text();
    // The holder still gets its chunk.
    expect((await c.raw(chunkUrl(real))).status).toBe(200);
  });
});
