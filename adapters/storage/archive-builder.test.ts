import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { BlobReader, configure, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestFarm, exampleJob, type TestFarm } from "../../test/support/farm.js";
import { RedisRenderClientStore } from "../redis/redis-render-client-store.js";
import { ArchiveBuilder } from "./archive-builder.js";
import { md5File } from "./renderer-catalog.js";

configure({ useWebWorkers: false });

describe("ArchiveBuilder", () => {
  let t: TestFarm;
  let builder: ArchiveBuilder;
  let dir: string;
  const make = (maxBytes: number, chunkSize = 1024) =>
    new ArchiveBuilder(
      { dir: path.join(t.storageRoot, ".data", "archives"), storageRoot: t.farm.storage.root, maxBytes, waitMs: 10_000, chunkSize },
      new RedisRenderClientStore(t.redis, t.farm.keys, 60_000),
      t.farm.logger,
    );

  beforeAll(() => {
    t = createTestFarm("archives");
    builder = make(1024 * 1024);
    dir = path.join(t.storageRoot, "proj");
    fs.mkdirSync(path.join(dir, "tex"), { recursive: true });
    fs.mkdirSync(path.join(dir, "out"), { recursive: true });
    fs.writeFileSync(path.join(dir, "shot.blend"), "blend ".repeat(1000));
    fs.writeFileSync(path.join(dir, "tex", "a.png"), Buffer.alloc(500, 3));
    fs.writeFileSync(path.join(dir, "out", "frame_0001.png"), "rendered frame");
    fs.symlinkSync("/etc/hostname", path.join(dir, "link"));
  });
  afterAll(async () => {
    await t?.close();
  });

  // Each job renders to frame paths of its own (two unfinished jobs may not share them).
  let jobs = 0;
  const submit = (metadata: Record<string, string> = {}) =>
    t.farm.jobs.submit({
      ...exampleJob(t.storageRoot, {
        filepath: path.join(dir, "shot.blend"),
        render_output: path.join(dir, "out", `job${++jobs}_frame_####`),
      }),
      metadata,
    });

  async function entries(file: string, password?: string) {
    const reader = new ZipReader(new BlobReader(await fs.openAsBlob(file)));
    const out: Record<string, { size: number; encrypted: boolean }> = {};
    for (const e of await reader.getEntries()) {
      if (e.directory) continue;
      const data = await e.getData?.(new Uint8ArrayWriter(), password ? { password } : {});
      out[e.filename] = { size: data?.length ?? 0, encrypted: e.encrypted };
    }
    await reader.close();
    return out;
  }

  it("zips the blend file's folder without its render output or links, MD5 of the file, cached by content", async () => {
    const a = await builder.forJob(await submit());
    const b = await builder.forJob(await submit());
    expect(a).not.toBeNull();
    expect(b?.md5).toBe(a?.md5);
    expect(b?.file).toBe(a?.file);
    expect(a?.md5).toBe(await md5File(a?.file as string));
    expect(a?.size).toBe(fs.statSync(a?.file as string).size);
    expect(a?.blendPath).toBe("shot.blend");
    expect(Object.keys(await entries(a?.file as string)).sort()).toEqual(["shot.blend", "tex/a.png"]);
    expect(fs.readdirSync(path.dirname(a?.file as string)).filter((f) => f.endsWith(".zip"))).toHaveLength(1);
  });

  it("cuts the zip into chunks of the chunk size with their md5s, and cuts again when the size changes", async () => {
    const job = await submit();
    const a = await builder.forJob(job);
    const bytes = fs.readFileSync(a?.file as string);
    const cut = (size: number) =>
      Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => {
        const piece = bytes.subarray(i * size, (i + 1) * size);
        return { md5: createHash("md5").update(piece).digest("hex"), offset: i * size, size: piece.length };
      });
    expect(a?.chunks).toEqual(cut(1024));
    // Another chunk size (SHEEPIT_CHUNK_SIZE changed): the same zip, not rebuilt, cut anew.
    const again = await make(1024 * 1024, 200).forJob(job);
    expect(again?.file).toBe(a?.file);
    expect(again?.md5).toBe(a?.md5);
    expect(again?.chunks.length).toBeGreaterThan(1);
    expect(again?.chunks).toEqual(cut(200));
  });

  it("encrypts with the job's archive password", async () => {
    const a = await builder.forJob(await submit({ "sheepit.archive_password": "pw-123" }));
    expect(a?.password).toBe("pw-123");
    const e = await entries(a?.file as string, "pw-123");
    expect(e["shot.blend"]).toEqual({ size: 6000, encrypted: true });
    await expect(entries(a?.file as string, "wrong")).rejects.toThrow();
  });

  it("refuses folders over ARCHIVE_MAX and jobs whose blend file is missing", async () => {
    await expect(make(1000).forJob(await submit({ x: "1" }))).rejects.toMatchObject({ kind: "too-large" });
    const job = await submit({ y: "1" });
    job.settings.filepath = path.join(dir, "missing.blend");
    await expect(builder.forJob(job)).rejects.toMatchObject({ kind: "storage" });
  });

  it("never zips the whole storage root, nor a blend folder replaced by a link to elsewhere", async () => {
    const job = await submit({ z: "1" });
    // A job stored before blend files had to lie in a folder (or edited): directly in the root.
    fs.writeFileSync(path.join(t.storageRoot, "top.blend"), "blend");
    await expect(
      builder.forJob({ ...job, id: "root-job", settings: { ...job.settings, filepath: path.join(t.storageRoot, "top.blend") } }),
    ).rejects.toMatchObject({ kind: "invalid" });
    const elsewhere = fs.mkdtempSync(path.join(t.storageRoot, "..", "bw-elsewhere-"));
    try {
      fs.writeFileSync(path.join(elsewhere, "shot.blend"), "secret");
      const linked = path.join(t.storageRoot, "linked");
      fs.symlinkSync(elsewhere, linked);
      await expect(
        builder.forJob({ ...job, id: "link-job", settings: { ...job.settings, filepath: path.join(linked, "shot.blend") } }),
      ).rejects.toMatchObject({ kind: "invalid" });
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
