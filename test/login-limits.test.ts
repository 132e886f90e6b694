import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderClientsOf } from "../src/app/render-clients.js";
import { parseArgs } from "../src/cli/command.js";
import { userGroup } from "../src/cli/user.js";
import type { TestGateway } from "./support/gateway.js";
import { startTestGateway } from "./support/gateway.js";
import { PASSWORD, type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

/** One SheepIt login (config.php) from `address` (believed through TRUSTED_PROXIES=127.0.0.1). */
async function login(
  url: string,
  address: string,
  o: { login?: string; password: string; hwid?: string; hostname?: string },
): Promise<{ status: number; key?: string }> {
  const form = new URLSearchParams({
    login: o.login ?? "alice",
    password: o.password,
    version: "7.23353.0",
    os: "linux",
    bits: "64bit",
    hostname: o.hostname ?? "box",
    hwid: o.hwid ?? "hw-box",
  });
  const res = await fetch(`${url}/server/config.php`, {
    method: "POST",
    body: form,
    headers: { "x-forwarded-for": address },
  });
  const text = await res.text();
  const status = Number(/status="(-?\d+)"/.exec(text)?.[1]);
  const key = /publickey="([^"]+)"/.exec(text)?.[1];
  return key ? { status, key } : { status };
}

const checks = (...gws: TestGateway[]) => gws.reduce((n, g) => n + renderClientsOf(g.farm).accounts.passwordChecks, 0);

describe("SheepIt login limits against two gateways on one Redis", () => {
  let a: SheepitGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startSheepitGateway("login-limits", {
      TRUSTED_PROXIES: "127.0.0.1",
      LOGIN_RATE_LIMIT: "10",
      LOGIN_RATE_LIMIT_PER_LOGIN: "10",
    });
    b = await a.twinGateway();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("60 parallel logins (59 wrong, 1 right) from 60 addresses over both gateways check at most LOGIN_RATE_LIMIT passwords", async () => {
    await a.rc.accounts.add("victim", "victim-password");
    const before = checks(a, b);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        login(i % 2 === 0 ? a.url : b.url, `203.0.113.${i + 1}`, {
          login: "victim",
          password: i === 37 ? "victim-password" : `guess-${i}-password`,
        }),
      ),
    );
    expect(checks(a, b) - before).toBeLessThanOrEqual(10);
    expect(Number(await a.redis.get(a.farm.keys.loginFailures("login:victim")))).toBeLessThanOrEqual(10);
    answers.forEach((r, i) => {
      if (i !== 37) expect(r.status).toBe(102);
      else expect([0, 102]).toContain(r.status);
    });
  });

  it("60 parallel wrong logins from one address check at most LOGIN_RATE_LIMIT passwords", async () => {
    await a.rc.accounts.add("victim2", "victim2-password");
    const before = checks(a, b);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        login(i % 2 === 0 ? a.url : b.url, "198.51.100.7", { login: `victim2`, password: `guess-${i}-password` }),
      ),
    );
    expect(checks(a, b) - before).toBeLessThanOrEqual(10);
    expect(answers.every((r) => r.status === 102)).toBe(true);
  });
});

describe("a guesser cannot lock the owner out", () => {
  let a: SheepitGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startSheepitGateway("login-owner", { TRUSTED_PROXIES: "127.0.0.1", LOGIN_RATE_LIMIT: "10" });
    b = await a.twinGateway();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("after 12 wrong logins from one address the owner's render key works there, and the password from another address", async () => {
    const owner = await login(a.url, "192.0.2.10", { password: PASSWORD });
    expect(owner.status).toBe(0);
    const before = checks(a, b);
    for (let i = 0; i < 12; i++) {
      const r = await login(i % 2 ? a.url : b.url, "192.0.2.66", { password: `wrong-password-${i}` });
      expect(r.status).toBe(102);
    }
    expect(checks(a, b) - before).toBe(10); // the last two were refused without a check
    // The right password from the guesser's address is refused too: that address is spent.
    expect((await login(a.url, "192.0.2.66", { password: PASSWORD })).status).toBe(102);
    // The owner's machine logs in with its render key, even from the spent address, on either gateway.
    expect((await login(b.url, "192.0.2.66", { password: owner.key as string })).status).toBe(0);
    expect((await login(a.url, "192.0.2.10", { password: owner.key as string })).status).toBe(0);
    // And with the password from a fresh address (the per-login cap, 100, is far away).
    expect((await login(b.url, "192.0.2.11", { password: PASSWORD, hwid: "hw-laptop" })).status).toBe(0);
  });

  it("keeps one render key per machine: a password login from the same machine revokes its old key", async () => {
    await a.rc.accounts.add("milo", "milo-password");
    const first = await login(a.url, "192.0.2.20", { login: "milo", password: "milo-password", hwid: "hw-milo" });
    const keys: string[] = [first.key as string];
    for (let i = 0; i < 4; i++) {
      const r = await login(i % 2 ? a.url : b.url, "192.0.2.20", {
        login: "milo",
        password: "milo-password",
        hwid: "hw-milo",
      });
      expect(r.status).toBe(0);
      keys.push(r.key as string);
    }
    expect(await a.rc.accounts.countKeys("milo")).toBe(1);
    expect(
      (await login(a.url, "192.0.2.20", { login: "milo", password: keys[0] as string, hwid: "hw-milo" })).status,
    ).toBe(102);
    expect(
      (await login(a.url, "192.0.2.20", { login: "milo", password: keys[4] as string, hwid: "hw-milo" })).status,
    ).toBe(0);
    // Another machine gets its own key; the first machine's stays good.
    const other = await login(b.url, "192.0.2.21", { login: "milo", password: "milo-password", hwid: "hw-other" });
    expect(other.status).toBe(0);
    expect(await a.rc.accounts.countKeys("milo")).toBe(2);
    expect(
      (await login(a.url, "192.0.2.20", { login: "milo", password: keys[4] as string, hwid: "hw-milo" })).status,
    ).toBe(0);
    // Without a hwid the hostname names the machine.
    const byHost = { login: "milo", password: "milo-password", hwid: "", hostname: "render-7" };
    expect((await login(a.url, "192.0.2.22", byHost)).status).toBe(0);
    expect((await login(b.url, "192.0.2.22", byHost)).status).toBe(0);
    expect(await a.rc.accounts.countKeys("milo")).toBe(3);
    // `bellwether user list` shows the true count: 3 machines, 3 keys (after 8 password logins).
    const out: string[] = [];
    await userGroup.commands.list?.run({ farm: async () => a.farm, out: (l) => out.push(l) }, parseArgs([]));
    expect(out.join("\n")).toMatch(/milo\s+enabled,can-render\s+0\s+3/);
  });
});

describe("wrong Flamenco worker secrets are throttled per address before any hashing", () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    a = await startTestGateway("worker-flood", { TRUSTED_PROXIES: "127.0.0.1", WORKER_AUTH_RATE_LIMIT: "5" });
    b = await a.twinGateway();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
  const state = (url: string, address: string, auth: string) =>
    fetch(`${url}/api/worker/state`, { headers: { authorization: auth, "x-forwarded-for": address } });

  it("answers 429 Error JSON past the limit without hashing, while a good worker from another address goes on", async () => {
    const secret = randomBytes(32).toString("hex");
    const reg = await fetch(`${a.url}/api/worker/register-worker`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "10.7.0.2" },
      body: JSON.stringify({ secret, platform: "linux", supported_task_types: ["blender"], nickname: "good" }),
    });
    expect(reg.status).toBe(200);
    const { uuid } = (await reg.json()) as { uuid: string };

    const hashed = () => a.farm.workers.secretChecks + b.farm.workers.secretChecks;
    const before = hashed();
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        state(i % 2 ? a.url : b.url, "10.7.0.1", basic(i % 4 === 0 ? uuid : randomUUID(), `wrong-${i}`)),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 403).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(35);
    expect(statuses.every((s) => s === 403 || s === 429)).toBe(true);
    expect(hashed() - before).toBeLessThanOrEqual(5);
    const throttled = answers[statuses.indexOf(429)] as Response;
    expect(throttled.headers.get("content-type")).toMatch(/^application\/json/);
    expect(throttled.headers.get("retry-after")).toBe("300");
    expect(await throttled.json()).toEqual({
      code: 429,
      message: expect.stringMatching(/too many wrong worker credentials/),
    });

    // The good worker's credentials, never checked before, from its own address, on both gateways.
    for (const url of [a.url, b.url]) {
      const r = await state(url, "10.7.0.2", basic(uuid, secret));
      expect([200, 204]).toContain(r.status);
    }
    // The flooding address stays refused, unhashed, even for a secret it did not try yet.
    const mid = hashed();
    expect((await state(b.url, "10.7.0.1", basic(uuid, "another-guess"))).status).toBe(429);
    expect(hashed()).toBe(mid);
  });
});
