import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobOffer, SheepItClient } from "./simulators/sheepit-client.js";
import { waitFor } from "./support/farm.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

/**
 * Issue 14: without PUBLIC_URL, the validation URL a SheepIt client is given is built from the
 * address that client used (its Host, or X-Forwarded-Host/-Proto from a trusted proxy), so a client
 * on another machine can upload. The test gateways set no PUBLIC_URL (config.publicUrlSet false).
 */

const portOf = (url: string) => new URL(url).port;

/** The client's offer with its validation URL pointed at `base` (same path and query). */
function via(base: string, job: JobOffer): JobOffer {
  const u = new URL(decodeURIComponent(job.validationUrl));
  return { ...job, validationUrl: encodeURIComponent(`${base}${u.pathname}${u.search}`) };
}

async function offer(c: SheepItClient): Promise<JobOffer> {
  const r = await c.requestJob();
  expect(r.status).toBe(0);
  return r.job as JobOffer;
}

describe("validation URLs come from the client's own request when PUBLIC_URL is unset", () => {
  let gw: SheepitGateway;
  let farmUrl: string;

  beforeAll(async () => {
    gw = await startSheepitGateway("sheepit-public-url");
    expect(gw.farm.config.publicUrlSet).toBe(false);
    farmUrl = `http://farm.example.org:${portOf(gw.url)}`;
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("a client reaching the gateway as farm.example.org gets URLs on that host, and its upload is accepted", async () => {
    const job = await gw.submit("by-name", { frames: "1" });
    const c = gw.client("named", { url: farmUrl, resolveTo: "127.0.0.1" });
    expect(await c.login()).toBe(0);
    const j = await offer(c);
    const u = new URL(decodeURIComponent(j.validationUrl));
    expect(u.host).toBe(`farm.example.org:${portOf(gw.url)}`);
    expect(u.protocol).toBe("http:");
    expect(u.pathname).toBe("/server/send_frame.php");
    // What a client resolving farm.example.org to the gateway sends: same path and query.
    expect(await c.upload(await c.render(via(gw.url, j)))).toBe(0);
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
  });

  it("each client gets URLs from its own requests only", async () => {
    await gw.submit("two-names", { frames: "1-2" });
    const a = gw.client("host-a", { url: farmUrl, resolveTo: "127.0.0.1" });
    const b = gw.client("host-b");
    expect(await a.login()).toBe(0);
    expect(await b.login()).toBe(0);
    const ja = await offer(a);
    const jb = await offer(b);
    expect(new URL(decodeURIComponent(ja.validationUrl)).hostname).toBe("farm.example.org");
    expect(new URL(decodeURIComponent(jb.validationUrl)).origin).toBe(gw.url);
    expect(await a.upload(await a.render(ja))).toBe(0);
    expect(await b.upload(await b.render(jb))).toBe(0);
  });

  it("X-Forwarded-Host/-Proto from an untrusted peer are ignored", async () => {
    await gw.submit("untrusted", { frames: "1" });
    const c = gw.client("spoofer", { headers: { "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https" } });
    expect(await c.login()).toBe(0);
    const j = await offer(c);
    expect(new URL(decodeURIComponent(j.validationUrl)).origin).toBe(gw.url);
    expect(await c.upload(await c.render(j))).toBe(0);
  });

  it("a whole job rendered by a client that knows the gateway only as farm.example.org", async () => {
    const job = await gw.submit("whole-by-name", { frames: "1-6" });
    const c = gw.client("remote", { url: farmUrl, resolveTo: "127.0.0.1" });
    expect(await c.login()).toBe(0);
    const done = async () => (await gw.farm.jobs.get(job.id)).status === "completed";
    await c.run({ maxRequests: 20, done });
    await waitFor(done);
    expect(c.uploads.map((u) => u.status)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(await gw.farm.jobs.get(job.id)).toMatchObject({ completedFrames: 6, failedFrames: 0 });
  });
});

describe("behind a trusted proxy", () => {
  let gw: SheepitGateway;

  beforeAll(async () => {
    gw = await startSheepitGateway("sheepit-public-url-proxy", { TRUSTED_PROXIES: "127.0.0.1" });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("the forwarded host and scheme make the validation URL, and the session cookie is Secure", async () => {
    const job = await gw.submit("proxied", { frames: "1" });
    const c = gw.client("behind-proxy", {
      headers: { "X-Forwarded-Host": "render.example.com", "X-Forwarded-Proto": "https" },
    });
    expect(await c.login()).toBe(0);
    const login = await c.raw("/server/config.php", {
      method: "POST",
      body: new URLSearchParams({
        login: "alice",
        password: c.password,
        version: "7.23353.0",
        os: "linux",
        bits: "64bit",
        hostname: "behind-proxy",
      }),
    });
    expect(login.status).toBe(200);
    expect(login.headers.getSetCookie().join(";")).toMatch(/;\s*Secure/i);
    const j = await offer(c);
    const u = new URL(decodeURIComponent(j.validationUrl));
    expect(u.origin).toBe("https://render.example.com");
    // The proxy forwards https://render.example.com/... to the gateway: same path and query.
    expect(await c.upload(await c.render(via(gw.url, j)))).toBe(0);
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
  });
});
