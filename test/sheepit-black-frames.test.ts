import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { frameOutputPath } from "../src/domain/jobs/output-path.js";
import { testPng } from "./simulators/fake-renderer.js";
import type { JobOffer, SheepItClient } from "./simulators/sheepit-client.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

/** Issue 9.7: a black frame is verified by a second client, never refused (301) for being black. */
describe("all-black SheepIt frames", () => {
  let gw: SheepitGateway;

  beforeAll(async () => {
    gw = await startSheepitGateway("sheepit-black", { SHEEPIT_BROKEN_FRAMES: "1" });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const send = (c: SheepItClient, offer: JobOffer, bytes: Buffer) =>
    c.upload({ job: offer, file: `${offer.id}_${offer.frame}.png`, renderSeconds: 30 }, bytes);
  const png = { format: "PNG", output_file_extension: ".png" };

  async function only(name: string, frames: string) {
    for (const j of await gw.farm.jobs.list({ statuses: ["queued", "active"] })) {
      await gw.farm.jobs.setStatus(j.id, "cancel-requested");
    }
    return gw.submit(name, { frames, ...png });
  }
  async function take(c: SheepItClient): Promise<JobOffer> {
    const r = await c.requestJob();
    expect(r.status).toBe(0);
    return r.job as JobOffer;
  }

  it("a frame two clients render black is accepted black; the first gets success and goes on", async () => {
    const job = await only("title-card", "3");
    const a = gw.client("black-a");
    const b = gw.client("black-b");
    expect(await a.login()).toBe(0);
    expect(await b.login()).toBe(0);
    const first = await take(a);
    expect(await send(a, first, await testPng(16, 12, [0, 0, 0]))).toBe(0);
    // Not done yet: the frame waits for another client; the first is not offered it again.
    expect((await gw.farm.jobs.get(job.id)).completedFrames).toBe(0);
    expect((await a.requestJob()).status).toBe(200);
    const second = await take(b);
    expect(second.frame).toBe("0003");
    expect(await send(b, second, await testPng(16, 12, [0, 0, 0]))).toBe(0);
    expect(await gw.farm.jobs.get(job.id)).toMatchObject({ completedFrames: 1, failedFrames: 0 });
    const file = frameOutputPath(String(job.settings.render_output), 3, ".png");
    expect(fs.readFileSync(file).subarray(1, 4).toString()).toBe("PNG");
    // Neither session was disabled nor charged.
    expect((await a.requestJob()).status).toBe(200);
    expect((await b.requestJob()).status).toBe(200);
  });

  it("a client whose black frame another client renders in colour is blamed (broken frame), the colour one is kept", async () => {
    const job = await only("broken-gpu", "1-2");
    const bad = gw.client("broken-gpu");
    const good = gw.client("good-gpu");
    expect(await bad.login()).toBe(0);
    expect(await good.login()).toBe(0);
    const first = await take(bad);
    expect(await send(bad, first, await testPng(16, 12, [0, 0, 0]))).toBe(0);
    const redone = await take(good);
    expect(redone.frame).toBe(first.frame);
    const colour = await testPng(16, 12);
    expect(await send(good, redone, colour)).toBe(0);
    const file = frameOutputPath(String(job.settings.render_output), Number(first.frame), ".png");
    expect(fs.readFileSync(file).equals(colour)).toBe(true);
    // SHEEPIT_BROKEN_FRAMES=1: one broken frame disables the bad session (203); the good one goes on.
    expect((await bad.requestJob()).status).toBe(203);
    const next = await take(good);
    expect(await send(good, next, colour)).toBe(0);
    expect(await gw.farm.jobs.get(job.id)).toMatchObject({ completedFrames: 2, failedFrames: 0 });
  });
});
