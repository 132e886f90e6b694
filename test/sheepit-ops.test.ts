import fs from "node:fs";
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { frameOutputPath } from "../src/domain/jobs/output-path.js";
import { testExr } from "./simulators/fake-renderer.js";
import type { JobOffer, SheepItClient } from "./simulators/sheepit-client.js";
import { waitFor } from "./support/farm.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

const send = (c: SheepItClient, offer: JobOffer, bytes: Buffer) =>
  c.upload({ job: offer, file: `${offer.id}_${offer.frame}.exr`, renderSeconds: 30 }, bytes);

describe("SheepIt operations: maintenance, overload, mirrors, leases, sessions, learnt needs", () => {
  const open: SheepitGateway[] = [];
  const start = async (label: string, env: Record<string, string> = {}) => {
    const gw = await startSheepitGateway(label, env);
    open.push(gw);
    return gw;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((g) => g.close()));
  });

  it("answers 206 in maintenance, keeping the session alive", async () => {
    const gw = await start("sheepit-maint", { MAINTENANCE: "on" });
    await gw.submit("m", { frames: "1" });
    const c = gw.client("m");
    expect(await c.login()).toBe(0);
    expect((await c.requestJob()).status).toBe(206);
    expect(await c.keepAlive()).toBe(0);
  });

  it("answers 207 when SheepIt requests in flight reach OVERLOAD_THRESHOLD", async () => {
    const gw = await start("sheepit-load", { OVERLOAD_THRESHOLD: "1" });
    await gw.submit("l", { frames: "1" });
    const c = gw.client("l");
    expect(await c.login()).toBe(0);
    // A request whose body never ends stays in flight.
    const { port } = new URL(gw.url);
    const hanging = http.request({
      host: "127.0.0.1",
      port,
      path: "/server/request_job.php",
      method: "POST",
      headers: { "content-type": "application/xml", "transfer-encoding": "chunked" },
    });
    hanging.on("error", () => undefined);
    hanging.write("<cache>");
    await new Promise((r) => setTimeout(r, 100));
    expect((await c.requestJob()).status).toBe(207);
    hanging.end("</cache>");
    await waitFor(async () => (await c.requestJob()).status === 0);
  });

  it("sends <speedtest> targets only when mirrors are configured and stores the client's results", async () => {
    const gw = await start("sheepit-mirrors", {
      SPEEDTEST_MIRRORS: "https://mirror-a.example/s.zip,https://mirror-b.example/s.zip",
    });
    const c = gw.client("st");
    expect(await c.login()).toBe(0);
    expect(c.speedtestTargets).toEqual(["https://mirror-a.example/s.zip", "https://mirror-b.example/s.zip"]);
    const [s] = await gw.farm.sessions.list("sheepit");
    expect(JSON.parse(s?.attrs.speedtest ?? "[]")).toEqual([
      { target: "https://mirror-a.example/s.zip", speed: 700000, ping: 20 },
      { target: "https://mirror-b.example/s.zip", speed: 699000, ping: 21 },
    ]);
  });

  it("accepts a frame uploaded after its lease ran out while nobody else took it", async () => {
    const gw = await start("sheepit-late", { SHEEPIT_LEASE: "500ms" });
    const job = await gw.submit("late", { frames: "1-2" });
    const c = gw.client("late");
    expect(await c.login()).toBe(0);
    const r = await c.requestJob();
    const offer = r.job as JobOffer;
    const sid = (await gw.farm.sessions.list("sheepit"))[0]?.id as string;
    await waitFor(async () => (await gw.farm.work.held(sid)).length === 0);
    expect(await send(c, offer, testExr())).toBe(0);
    expect((await gw.farm.jobs.get(job.id)).completedFrames).toBe(1);
    expect(fs.existsSync(frameOutputPath(String(job.settings.render_output), Number(offer.frame), ".exr"))).toBe(true);
    // The other frame is still there for the next request, the late one is not handed out again.
    const next = await c.requestJob();
    expect(next.job?.frame).not.toBe(offer.frame);
  });

  it("drops a late upload of a frame another client holds now (answers 0, writes nothing)", async () => {
    const gw = await start("sheepit-stolen", { SHEEPIT_LEASE: "500ms" });
    const job = await gw.submit("stolen", { frames: "1" });
    const a = gw.client("slow");
    expect(await a.login()).toBe(0);
    const offer = (await a.requestJob()).job as JobOffer;
    const b = gw.client("fast");
    expect(await b.login()).toBe(0);
    const taken = await waitFor(async () => {
      const r = await b.requestJob();
      return r.status === 0 ? r.job : null;
    });
    expect(taken.frame).toBe(offer.frame);
    expect(await send(a, offer, testExr())).toBe(0);
    const file = frameOutputPath(String(job.settings.render_output), 1, ".exr");
    expect(fs.existsSync(file)).toBe(false);
    expect(await send(b, taken, testExr())).toBe(0);
    expect(fs.existsSync(file)).toBe(true);
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
  });

  it("ends sessions unseen for SHEEPIT_SESSION_TIMEOUT: 202 and their frames back in line", async () => {
    const gw = await start("sheepit-timeout", { SHEEPIT_SESSION_TIMEOUT: "400ms" });
    const job = await gw.submit("gone", { frames: "1" });
    const c = gw.client("vanishing");
    expect(await c.login()).toBe(0);
    const offer = (await c.requestJob()).job as JobOffer;
    await waitFor(async () => (await gw.farm.sessions.list("sheepit")).length === 0);
    expect((await c.requestJob()).status).toBe(202);
    // The real client logs in again (with its render key) and asks at once.
    expect(await c.login()).toBe(0);
    const again = await c.requestJob();
    expect(again.job?.id).toBe(String(job.sheepitId));
    expect(again.job?.frame).toBe(offer.frame);
  });

  it("learns render-time and VRAM needs from errors 23 and 13, and fails frames on crashes", async () => {
    const gw = await start("sheepit-needs");
    const job = await gw.submit("needs", { frames: "1-4" });
    const limited = gw.client("limited", { renderTimeMax: 60 });
    expect(await limited.login()).toBe(0);
    const r = await limited.requestJob();
    expect(await limited.reportError(23, r.job?.id, r.job?.frame, "killed: time limit")).toBe(0);
    expect(await gw.rc.store.jobNeeds(job.id)).toMatchObject({ renderSeconds: 61 });
    expect((await limited.requestJob()).status).toBe(200);

    const gpu = gw.client("gpu", {
      computeMethod: 2,
      gpu: { type: "OPTIX", model: "RTX 2060", ramBytes: 6_000_000_000 },
    });
    expect(await gpu.login()).toBe(0);
    const g = await gpu.requestJob();
    expect(g.job?.useGpu).toBe(1);
    expect(await gpu.reportError(13, g.job?.id, g.job?.frame, "CUDA out of memory")).toBe(0);
    expect(await gw.rc.store.jobNeeds(job.id)).toMatchObject({ vramBytes: 6_000_000_001 });
    expect((await gpu.requestJob()).status).toBe(200);

    // A crash fails the frame for this client (the failure rules of the farm); it goes to others.
    const cpu = gw.client("cpu", { renderEnv: { FAKE_RENDER_MODE: "crash" } });
    expect(await cpu.login()).toBe(0);
    await cpu.run({ maxRequests: 1 });
    const sid = (await gw.farm.sessions.list("sheepit")).find((s) => s.attrs.hostname === "cpu")?.id as string;
    expect((await gw.rc.store.errors(sid)).map((e) => e.type)).toEqual([12, 0]);
    const leases = await gw.farm.scheduler.jobLeases(job.id);
    // Its third failure by a different client: the frame failed for good (TASK_FAIL_WORKERS=3).
    expect(leases.filter((l) => l.sessionId === sid).map((l) => l.state)).toEqual(["failed"]);
    expect((await gw.farm.jobs.get(job.id)).failedFrames).toBe(1);
  });
});
