import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { frameOutputPath } from "../src/domain/jobs/output-path.js";
import { waitFor } from "./support/farm.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

describe("SheepIt clients render a job end to end", () => {
  let gw: SheepitGateway;

  beforeAll(async () => {
    gw = await startSheepitGateway("sheepit-e2e");
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("two clients render a 12-frame EXR job: every frame lands once at its render_output path, the job completes", async () => {
    const job = await gw.submit("twelve");
    const a = gw.client("box-a");
    const b = gw.client("box-b", { newer: false });
    expect(await a.login()).toBe(0);
    expect(await b.login()).toBe(0);
    // The render key replaced the password for later logins.
    expect(a.password).toMatch(/^bwk1_/);
    expect(a.maxPeriod).toBeGreaterThan(0);

    const done = async () => (await gw.farm.jobs.get(job.id)).status === "completed";
    await Promise.all([a.run({ maxRequests: 30, done }), b.run({ maxRequests: 30, done })]);
    await waitFor(done);

    const uploads = [...a.uploads, ...b.uploads];
    expect(uploads.map((u) => u.status)).toEqual(uploads.map(() => 0));
    const frames = uploads.map((u) => u.frame).sort();
    expect(frames).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1).padStart(4, "0")));
    expect(new Set(uploads.map((u) => u.job))).toEqual(new Set([String(job.sheepitId)]));
    expect(a.uploads.length).toBeGreaterThan(0);
    expect(b.uploads.length).toBeGreaterThan(0);

    const outDir = path.join(gw.storageRoot, "renders", "twelve");
    const files = fs.readdirSync(outDir).sort();
    expect(files).toEqual(
      Array.from({ length: 12 }, (_, i) =>
        path.basename(frameOutputPath(String(job.settings.render_output), i + 1, ".exr")),
      ),
    );
    for (const f of files) expect(fs.readFileSync(path.join(outDir, f)).readUInt32LE(0)).toBe(20000630);

    const final = await gw.farm.jobs.get(job.id);
    expect(final).toMatchObject({ status: "completed", completedFrames: 12, failedFrames: 0, hasVideo: false });
    // Points were credited to the user.
    expect((await gw.rc.accounts.get("alice")).points).toBeGreaterThanOrEqual(12);
    // The archive was downloaded once per client (and used from the cache after that). The
    // cache itself may already be gone: a request after the job completed tells the client to
    // delete it (next test).
    expect(a.downloads.filter((d) => d.type === "job")).toHaveLength(1);
    expect(a.downloads.filter((d) => d.type === "binary")).toHaveLength(1);
  });

  it("a PNG job's frames complete and its video task then waits for a Flamenco worker", async () => {
    const job = await gw.submit("pngs", { frames: "1-4", format: "PNG", output_file_extension: ".png" });
    const c = gw.client("box-c");
    expect(await c.login()).toBe(0);
    const framesDone = async () => (await gw.farm.jobs.get(job.id)).completedFrames === 4;
    await c.run({ maxRequests: 20, done: framesDone });
    await waitFor(framesDone);
    const j = await gw.farm.jobs.get(job.id);
    expect(j).toMatchObject({ status: "active", completedFrames: 4, hasVideo: true, videoState: "queued" });
    for (let f = 1; f <= 4; f++) {
      const file = frameOutputPath(String(job.settings.render_output), f, ".png");
      expect(fs.readFileSync(file).subarray(1, 4).toString()).toBe("PNG");
    }
    // Nothing else for SheepIt clients: the video task is ffmpeg work.
    expect((await c.requestJob()).status).toBe(200);
  });

  it("tells a client to delete cached archives of finished jobs", async () => {
    await gw.submit("one-frame", { frames: "7" });
    const c = gw.client("box-d");
    expect(await c.login()).toBe(0);
    const offer = await c.requestJob();
    expect(offer.status).toBe(0);
    expect(await c.upload(await c.render(offer.job as NonNullable<typeof offer.job>))).toBe(0);
    const held = c.cachedArchives();
    expect(held).toEqual([offer.job?.archiveMd5]);
    const r = await c.requestJob();
    expect(r.status).toBe(200);
    expect(r.deleted.sort()).toEqual(held.sort());
    expect(c.cachedArchives()).toEqual([]);
  });
});
