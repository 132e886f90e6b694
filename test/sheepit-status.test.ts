import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { frameOutputPath } from "../src/domain/jobs/output-path.js";
import { testExr, testPng } from "./simulators/fake-renderer.js";
import type { JobOffer, SheepItClient } from "./simulators/sheepit-client.js";
import { waitFor } from "./support/farm.js";
import { PASSWORD, type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

const xmlStatus = async (res: Response) => {
  expect(res.headers.get("content-type")).toBe("text/xml; charset=utf-8");
  const text = await res.text();
  expect(text.startsWith('<?xml version="1.0" encoding="utf-8" ?>')).toBe(true);
  return Number(/status="(-?\d+)"/.exec(text)?.[1]);
};

const configForm = (o: Record<string, string>) =>
  new URLSearchParams({ login: "alice", password: PASSWORD, version: "7.23353.0", os: "linux", bits: "64bit", ...o });

describe("SheepIt status codes and bad input", () => {
  let gw: SheepitGateway;

  beforeAll(async () => {
    gw = await startSheepitGateway("sheepit-status", {
      MIN_CLIENT_VERSION: "6.0.0",
      LOGIN_RATE_LIMIT: "3",
      UPLOAD_MAX: "4KB",
      SHEEPIT_BROKEN_FRAMES: "2",
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const post = (p: string, body: string | URLSearchParams, headers: Record<string, string> = {}) =>
    fetch(gw.url + p, { method: "POST", body, headers });

  /** Submits a job after canceling the others, so clients get frames of this one only. */
  async function only(name: string, settings: Record<string, unknown> = {}, metadata: Record<string, string> = {}) {
    for (const j of await gw.farm.jobs.list({ statuses: ["queued", "active"] })) {
      await gw.farm.jobs.setStatus(j.id, "cancel-requested");
    }
    return gw.submit(name, settings, metadata);
  }

  /** A logged-in client holding a frame of a fresh job. */
  async function holding(name: string, settings: Record<string, unknown> = {}) {
    const job = await only(name, settings);
    const c = gw.client(name);
    expect(await c.login()).toBe(0);
    const r = await c.requestJob();
    expect(r.status).toBe(0);
    return { job, c, offer: r.job as JobOffer };
  }
  const send = (c: SheepItClient, offer: JobOffer, bytes: Buffer) =>
    c.upload({ job: offer, file: `${offer.id}_${offer.frame}.png`, renderSeconds: 90 }, bytes);

  describe("config.php", () => {
    it("answers 100 without a version, 104 for missing or malformed parameters, 101 below MIN_CLIENT_VERSION", async () => {
      const { version: _, ...noVersion } = Object.fromEntries(configForm({}));
      expect(await xmlStatus(await post("/server/config.php", new URLSearchParams(noVersion)))).toBe(100);
      const { login: __, ...noLogin } = Object.fromEntries(configForm({}));
      expect(await xmlStatus(await post("/server/config.php", new URLSearchParams(noLogin)))).toBe(104);
      expect(await xmlStatus(await post("/server/config.php", configForm({ cpu_cores: "many" })))).toBe(104);
      expect(await xmlStatus(await post("/server/config.php", configForm({ version: "5.9.1" })))).toBe(101);
    });

    it("answers 0 with a cookie, the request paths, max-period and a publickey; no <speedtest> without mirrors", async () => {
      const res = await fetch(`${gw.url}/server/config.php?${configForm({ hwid: "unknown" })}`);
      const text = await res.clone().text();
      expect(await xmlStatus(res)).toBe(0);
      expect(res.headers.get("set-cookie")).toMatch(/^bw_sheepit=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
      expect(text).toMatch(/publickey="bwk1_[A-Za-z0-9_-]{43}"/);
      for (const t of ["request-job", "download-archive", "error", "keepmealive", "logout", "speedtest-answer"]) {
        expect(text).toContain(`type="${t}"`);
      }
      expect(text).toContain('path="/account.php?mode=logout&amp;worker=1"');
      expect(text).toMatch(/max-period="\d+"/);
      expect(text).not.toContain("<speedtest");
    });

    it("accepts the publickey as the password until the keys are revoked (102 then)", async () => {
      const c = gw.client("relogin");
      expect(await c.login()).toBe(0);
      const key = c.password;
      expect(await c.login()).toBe(0);
      expect(c.password).toBe(key);
      expect(await gw.rc.accounts.revokeKeys("alice")).toBeGreaterThan(0);
      expect(await c.login()).toBe(102);
    });

    it("answers 102 for bad credentials and disabled users, and limits failed logins per login and per address", async () => {
      await gw.rc.accounts.add("bob", "bob-password-1");
      await gw.rc.accounts.add("carol", "carol-password");
      const bob = gw.client("bob", { login: "bob", password: "wrong-password" });
      for (let i = 0; i < 3; i++) expect(await bob.login()).toBe(102);
      bob.password = "bob-password-1";
      expect(await bob.login()).toBe(102); // rate limited: right password, still refused
      // The same address is now limited for other logins as well.
      expect(await gw.client("carol", { login: "carol", password: "carol-password" }).login()).toBe(102);
      await gw.redis.del(gw.farm.keys.loginFailures("addr:127.0.0.1"), gw.farm.keys.loginFailures("login:bob"));
      expect(await gw.client("carol2", { login: "carol", password: "carol-password" }).login()).toBe(0);
      await gw.rc.accounts.setDisabled("carol", true);
      expect(await gw.client("carol3", { login: "carol", password: "carol-password" }).login()).toBe(102);
      await gw.redis.del(gw.farm.keys.loginFailures("addr:127.0.0.1"));
    });
  });

  describe("request_job.php", () => {
    it("answers 202 without a live session, 201 without the right to render, 205 without a renderer, 200 with nothing to do", async () => {
      expect(await xmlStatus(await post("/server/request_job.php?computemethod=1", "<cache/>"))).toBe(202);
      const unknown = await fetch(`${gw.url}/server/request_job.php`, {
        method: "POST",
        headers: { cookie: "bw_sheepit=forged" },
      });
      expect(await xmlStatus(unknown)).toBe(202);

      await gw.rc.accounts.add("dave", "dave-password", { canRender: false });
      const dave = gw.client("dave", { login: "dave", password: "dave-password" });
      expect(await dave.login()).toBe(0);
      expect((await dave.requestJob()).status).toBe(201);

      const mac = gw.client("mac", { os: "mac" });
      expect(await mac.login()).toBe(0);
      expect((await mac.requestJob()).status).toBe(205);

      const idle = gw.client("idle");
      expect(await idle.login()).toBe(0);
      const r = await idle.requestJob();
      expect(r.status).toBe(200);
      expect(r.stats).toBeDefined();
    });

    it("answers 400 for a malformed <cache> body or parameters", async () => {
      const c = gw.client("bad-body");
      expect(await c.login()).toBe(0);
      const bad = await c.raw("/server/request_job.php?computemethod=1", {
        method: "POST",
        body: "<cache><file md5=",
        headers: { "content-type": "application/xml" },
      });
      expect(await xmlStatus(bad)).toBe(400);
      const noMd5 = await c.raw("/server/request_job.php", { method: "POST", body: "<cache><file/></cache>" });
      expect(await xmlStatus(noMd5)).toBe(400);
      expect(await xmlStatus(await c.raw("/server/request_job.php?computemethod=7", { method: "POST" }))).toBe(400);
      expect(await xmlStatus(await c.raw("/server/request_job.php?ram_max=-5", { method: "POST" }))).toBe(400);
    });

    it("gives a job with every attribute real clients require", async () => {
      const job = await only("attrs", { frames: "7" });
      const c = gw.client("attrs");
      expect(await c.login()).toBe(0);
      const res = await c.raw("/server/request_job.php?computemethod=1&rendertime_max=-1", {
        method: "POST",
        body: "<cache/>",
      });
      const text = await res.clone().text();
      expect(await xmlStatus(res)).toBe(0);
      const attr = (name: string) => new RegExp(`<job [^>]*\\b${name}="([^"]*)"`).exec(text)?.[1];
      expect(Number(attr("id"))).toBe(job.sheepitId);
      expect(job.sheepitId).toBeGreaterThanOrEqual(20);
      expect(attr("frame")).toBe("0007");
      expect(attr("use_gpu")).toBe("0");
      expect(attr("archive_md5")).toMatch(/^[0-9a-f]{32}$/);
      expect(attr("path")).toBe("scene.blend");
      expect(attr("extras")).toBe("");
      expect(attr("password")).toBe("");
      expect(attr("name")).toBe("attrs");
      expect(attr("synchronous_upload")).toBe("0");
      const url = decodeURIComponent(attr("validation_url") as string);
      expect(url.startsWith(`${gw.url}/server/send_frame.php?`)).toBe(true);
      expect(url).toMatch(/token=[0-9a-f-]{36}\.[A-Za-z0-9_-]{22}/);
      expect(text).toMatch(
        /<renderer md5="[0-9a-f]{32}" commandline="\.e --factory-startup [^"]*" update_method="remainingtime"/,
      );
      expect(text).toMatch(/<script>[^<]*def sheepit_set_compute_device\(device_type, signature, device_id\):/);
      expect(text).toContain("file_format = &quot;OPEN_EXR&quot;");
      expect(text).toMatch(
        /<stats credits_session="\d+" credits_total="\d+" frame_remaining="\d+" waiting_project="\d+" connected_machine="\d+"/,
      );
    });

    it("encrypts the archive when the job has a password", async () => {
      const { c, offer } = await holding("secret", { frames: "1" });
      expect(offer.password).toBe("");
      await gw.submit("locked", { frames: "1" }, { "sheepit.archive_password": "s3cr3t" });
      const r = await c.requestJob();
      expect(r.status).toBe(0);
      expect(r.job?.password).toBe("s3cr3t");
      const rendered = await c.render(r.job as JobOffer);
      expect(await c.upload(rendered)).toBe(0);
    });
  });

  describe("the validation endpoint", () => {
    it("accepts a frame once: a repeated upload answers 0 and changes nothing", async () => {
      const { job, c, offer } = await holding("repeat", { frames: "1-2" });
      expect(await send(c, offer, testExr())).toBe(0);
      const file = frameOutputPath(String(job.settings.render_output), Number(offer.frame), ".exr");
      const before = fs.statSync(file);
      const points = (await gw.rc.accounts.get("alice")).points;
      expect(await send(c, offer, testExr(16, 12, [0x3c00, 0x3c00, 0x3c00]))).toBe(0);
      expect(fs.statSync(file).mtimeMs).toBe(before.mtimeMs);
      expect(fs.readFileSync(file).equals(testExr())).toBe(true);
      expect((await gw.rc.accounts.get("alice")).points).toBe(points);
      expect((await gw.farm.jobs.get(job.id)).completedFrames).toBe(1);
      expect(fs.readdirSync(path.dirname(file)).filter((f) => f.endsWith(".part"))).toEqual([]);
    });

    it("answers 300 for missing parameters or a missing file part", async () => {
      const { c, offer } = await holding("missing", { frames: "1" });
      const url = decodeURIComponent(offer.validationUrl);
      expect(await xmlStatus(await c.raw(url.replace(/token=[^&]+/, ""), { method: "POST" }))).toBe(300);
      expect(await xmlStatus(await c.raw(url.replace(/job=\d+&/, ""), { method: "POST" }))).toBe(300);
      expect(await xmlStatus(await c.raw(url.replace(/frame=\d+/, "frame=../../etc"), { method: "POST" }))).toBe(300);
      const form = new FormData();
      form.append("other", new Blob([testExr()]), "x.exr");
      expect(await xmlStatus(await c.raw(url, { method: "POST", body: form }))).toBe(300);
      const garbled = await c.raw(url, {
        method: "POST",
        body: '--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nunterminated',
        headers: { "content-type": "multipart/form-data; boundary=x" },
      });
      expect([300, 302]).toContain(await xmlStatus(garbled));
    });

    it("answers 302 for uploads that are not images, decoding them rather than trusting magic bytes", async () => {
      const { c, offer } = await holding("notimage", { frames: "1", format: "PNG", output_file_extension: ".png" });
      expect(await send(c, offer, Buffer.from("this is a log, not a frame"))).toBe(302);
      const png = await testPng();
      expect(await send(c, offer, png.subarray(0, png.length - 20))).toBe(302);
      const exr = testExr();
      expect(await send(c, offer, exr.subarray(0, exr.length - 100))).toBe(302);
      expect(
        await send(c, offer, Buffer.concat([Buffer.from([0x76, 0x2f, 0x31, 0x01, 2, 0, 0, 0]), Buffer.alloc(40)])),
      ).toBe(302);
      expect(await send(c, offer, png)).toBe(0);
    });

    it("answers 413 for an upload over UPLOAD_MAX and writes nothing", async () => {
      const { job, c, offer } = await holding("huge", { frames: "1", format: "PNG", output_file_extension: ".png" });
      // Refused on its Content-Length, then one that is cut off while it streams in.
      expect(await send(c, offer, Buffer.alloc(200 * 1024, 1))).toBe(-1);
      expect(c.uploads.at(-1)?.http).toBe(413);
      expect(await send(c, offer, Buffer.alloc(20 * 1024, 1))).toBe(-1);
      expect(c.uploads.at(-1)?.http).toBe(413);
      const file = frameOutputPath(String(job.settings.render_output), 1, ".png");
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.readdirSync(path.dirname(file))).toEqual([]);
      expect(await send(c, offer, await testPng())).toBe(0);
    });

    it("cuts off a streamed upload (no Content-Length) at the cap instead of reading it to its end", async () => {
      const { c, offer } = await holding("endless", { frames: "1", format: "PNG", output_file_extension: ".png" });
      const chunk = new Uint8Array(1024).fill(7);
      let sent = 0;
      const boundary = "bwcut";
      const head = new TextEncoder().encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n`,
      );
      // Up to 64 MB would follow; the gateway must stop long before (UPLOAD_MAX is 4 KB here).
      const body = new ReadableStream<Uint8Array>({
        start(ctl) {
          ctl.enqueue(head);
        },
        pull(ctl) {
          if (sent >= 64 * 1024 * 1024) return ctl.close();
          sent += chunk.length;
          ctl.enqueue(chunk);
        },
      });
      const url = `${decodeURIComponent(offer.validationUrl)}&rendertime=1&memoryused=1`;
      const res = await c
        .raw(url, {
          method: "POST",
          headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
          body,
          duplex: "half",
        } as RequestInit)
        .catch((err: unknown) => err as Error);
      // Either the 413 arrives, or the connection is closed under the sender: in no case was the
      // whole body read.
      if (res instanceof Response) {
        expect(res.status).toBe(413);
        await res.text();
      }
      expect(sent).toBeLessThan(16 * 1024 * 1024);
    });

    it("answers 304 without a session, and for wrong or replayed tokens", async () => {
      const { c, offer } = await holding("tokens", { frames: "1-3" });
      const url = decodeURIComponent(offer.validationUrl);
      const form = () => {
        const f = new FormData();
        f.append("file", new Blob([testExr()]), "x.exr");
        return f;
      };
      expect(await xmlStatus(await fetch(url, { method: "POST", body: form() }))).toBe(304);
      const tampered = url.replace(/token=([^&.]+)\.(.)/, (_m, l, ch) => `token=${l}.${ch === "A" ? "B" : "A"}`);
      expect(await xmlStatus(await c.raw(tampered, { method: "POST", body: form() }))).toBe(304);
      const otherFrame = url.replace(/frame=\d+/, "frame=0002");
      expect(await xmlStatus(await c.raw(otherFrame, { method: "POST", body: form() }))).toBe(304);
      // Another client replaying this client's validation URL.
      const thief = gw.client("thief");
      expect(await thief.login()).toBe(0);
      expect(await xmlStatus(await thief.raw(url, { method: "POST", body: form() }))).toBe(304);
      expect(await send(c, offer, testExr())).toBe(0);
    });

    it("answers 303 when the frame cannot be stored, and never writes outside the storage root", async () => {
      const { job, c, offer } = await holding("nostore", { frames: "1" });
      const file = frameOutputPath(String(job.settings.render_output), 1, ".exr");
      fs.mkdirSync(file, { recursive: true }); // a folder where the frame should go
      expect(await send(c, offer, testExr())).toBe(303);
      fs.rmSync(file, { recursive: true });

      // The output folder replaced by a link leaving the storage root.
      const outside = fs.mkdtempSync(path.join(gw.scratch, "outside-"));
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      fs.symlinkSync(outside, path.dirname(file));
      expect(await send(c, offer, testExr())).toBe(303);
      expect(fs.readdirSync(outside)).toEqual([]);
      fs.unlinkSync(path.dirname(file));
      expect(await send(c, offer, testExr())).toBe(0);
    });

    it("answers 301 for frames of other dimensions, and disables a session that keeps sending them (203); black alone is not refused", async () => {
      const job = await only("broken", { frames: "1-6", format: "PNG", output_file_extension: ".png" });
      const good = gw.client("good-gpu");
      expect(await good.login()).toBe(0);
      const first = await good.requestJob();
      expect(await send(good, first.job as JobOffer, await testPng(16, 12))).toBe(0);

      const bad = gw.client("bad-gpu");
      expect(await bad.login()).toBe(0);
      const r1 = await bad.requestJob();
      expect(r1.job?.id).toBe(String(job.sheepitId));
      // Black is verified by another client (test/sheepit-black-frames.test.ts), never 301 by itself.
      expect(await send(bad, r1.job as JobOffer, await testPng(16, 12, [0, 0, 0]))).toBe(0);
      const r2 = await bad.requestJob();
      expect(await send(bad, r2.job as JobOffer, await testPng(32, 24))).toBe(301);
      const r3 = await bad.requestJob();
      expect(await send(bad, r3.job as JobOffer, await testPng(8, 8))).toBe(301);
      expect((await bad.requestJob()).status).toBe(203);
      // The broken frames went back in line for others.
      const again = await good.requestJob();
      expect(again.status).toBe(0);
      expect(await send(good, again.job as JobOffer, await testPng(16, 12))).toBe(0);
    });
  });

  describe("keepmealive, error reports, archives, logout", () => {
    it("keepmealive answers 0 while the frame is held and 400 once its job is canceled or the frame is not held", async () => {
      const { job, c, offer } = await holding("alive", { frames: "1-2" });
      expect(await c.keepAlive(offer, true)).toBe(0);
      expect(await c.keepAlive()).toBe(0);
      const sessions = await gw.farm.sessions.list("sheepit");
      expect(sessions.some((s) => s.attrs.hostname === "alive" && s.attrs.paused === "false")).toBe(true);
      expect(await c.keepAlive({ ...offer, frame: "0002" })).toBe(400);
      expect(await c.keepAlive({ ...offer, id: "999999" })).toBe(400);
      expect(await xmlStatus(await c.raw("/server/keepmealive.php?job=abc&frame=1"))).toBe(400);
      await gw.farm.jobs.setStatus(job.id, "cancel-requested");
      expect(await c.keepAlive(offer)).toBe(400);
      expect(await xmlStatus(await fetch(`${gw.url}/server/keepmealive.php?job=1&frame=1`))).toBe(400);
    });

    it("error.php keeps reports (bounded), fails the frame, and learns a job's memory needs from out-of-RAM errors", async () => {
      const job = await only("ram", { frames: "1-3" });
      const small = gw.client("small", { ramKb: 4_000_000 });
      expect(await small.login()).toBe(0); // sends the type 0 start-up log
      const r = await small.requestJob();
      expect(r.job?.id).toBe(String(job.sheepitId));
      expect(await small.reportError(21, r.job?.id, r.job?.frame, "x".repeat(200_000), 3_900_000)).toBe(0);
      const sid = (await gw.farm.sessions.list("sheepit")).find((s) => s.attrs.hostname === "small")?.id as string;
      const reports = await gw.rc.store.errors(sid);
      expect(reports.map((e) => e.type)).toEqual([21, 0]);
      expect(reports[0]?.log.length).toBe(64 * 1024);
      expect(await gw.rc.store.jobNeeds(job.id)).toMatchObject({ ramKb: 4_000_001 });
      // Not sent again to clients that cannot meet it; a bigger one gets the failed frame.
      expect((await small.requestJob()).status).toBe(200);
      const big = gw.client("big", { ramKb: 32_000_000 });
      expect(await big.login()).toBe(0);
      const rb = await big.requestJob();
      expect(rb.job?.id).toBe(String(job.sheepitId));
      expect(await xmlStatus(await big.raw("/server/error.php?type=abc", { method: "POST" }))).toBe(300);
      expect(await big.reportError("", undefined, undefined, "empty type")).toBe(0);
    });

    it("archive.php serves the job archive and renderer to sessions given the job, with Range; 404 otherwise", async () => {
      const { job, c, offer } = await holding("archive", { frames: "1" });
      const full = await c.raw(`/server/archive.php?type=job&job=${offer.id}`);
      expect(full.status).toBe(200);
      const body = Buffer.from(await full.arrayBuffer());
      expect(full.headers.get("content-length")).toBe(String(body.length));
      const part = await c.raw(`/server/archive.php?type=job&job=${offer.id}`, { headers: { range: "bytes=10-19" } });
      expect(part.status).toBe(206);
      expect(part.headers.get("content-range")).toBe(`bytes 10-19/${body.length}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(body.subarray(10, 20))).toBe(true);
      const tail = await c.raw(`/server/archive.php?type=job&job=${offer.id}`, { headers: { range: "bytes=-5" } });
      expect(Buffer.from(await tail.arrayBuffer()).equals(body.subarray(body.length - 5))).toBe(true);
      const beyond = await c.raw(`/server/archive.php?type=job&job=${offer.id}`, {
        headers: { range: `bytes=${body.length}-` },
      });
      expect(beyond.status).toBe(416);
      expect((await c.raw(`/server/archive.php?type=binary&job=${offer.id}`)).status).toBe(200);

      expect((await fetch(`${gw.url}/server/archive.php?type=job&job=${offer.id}`)).status).toBe(404);
      const other = gw.client("other");
      expect(await other.login()).toBe(0);
      expect((await other.raw(`/server/archive.php?type=job&job=${offer.id}`)).status).toBe(404);
      expect((await c.raw("/server/archive.php?type=job&job=../../etc/passwd")).status).toBe(404);
      expect((await c.raw(`/server/archive.php?type=zip&job=${offer.id}`)).status).toBe(404);
      expect((await c.raw("/server/archive.php?type=job&job=99999")).status).toBe(404);
      expect(job.id).toBeTruthy();
    });

    it("logout ends the session and puts its frames back in line at once", async () => {
      const { job, c, offer } = await holding("bye", { frames: "1" });
      await c.logout();
      expect((await c.requestJob()).status).toBe(202);
      const next = gw.client("after-bye");
      expect(await next.login()).toBe(0);
      const r = await next.requestJob();
      expect(r.job?.id).toBe(String(job.sheepitId));
      expect(r.job?.frame).toBe(offer.frame);
    });

    it("speedtest.php answers 300 for malformed bodies", async () => {
      const c = gw.client("speedy");
      expect(await c.login()).toBe(0);
      expect(
        await xmlStatus(await c.raw("/server/speedtest.php", { method: "POST", body: "<speedtest><result" })),
      ).toBe(300);
      expect(await xmlStatus(await c.raw("/server/speedtest.php", { method: "POST", body: "<other/>" }))).toBe(300);
    });
  });

  it("a session whose user is disabled gets 203", async () => {
    await gw.rc.accounts.add("erin", "erin-password");
    const erin = gw.client("erin", { login: "erin", password: "erin-password" });
    expect(await erin.login()).toBe(0);
    await gw.rc.accounts.setDisabled("erin", true);
    expect((await erin.requestJob()).status).toBe(203);
    await waitFor(async () => true);
  });
});
