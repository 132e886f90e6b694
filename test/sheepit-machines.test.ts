import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testExr } from "./simulators/fake-renderer.js";
import type { JobOffer } from "./simulators/sheepit-client.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

/** Each gateway caches the farm figures of `<stats>` for a second. */
const afterStatsCache = () => new Promise((r) => setTimeout(r, 1100));

describe("SheepIt machines: restarts and connected machines", () => {
  let gw: SheepitGateway;

  beforeAll(async () => {
    // A lease far longer than the test: a frame only comes back when the gateway gives it back.
    gw = await startSheepitGateway("sheepit-machines", { SHEEPIT_LEASE: "45m" });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("a restarted machine (same login, hostname, hwid) ends its old session and gets its frame back at once", async () => {
    const job = await gw.submit("restart", { frames: "5" });
    const before = gw.client("restarted-box", { instantImage: testExr() });
    expect(await before.login()).toBe(0);
    const held = await before.requestJob();
    expect(held.status).toBe(0);
    expect(held.job?.frame).toBe("0005");

    // Killed and started again: a new client process, same machine.
    const after = gw.client("restarted-box", { instantImage: testExr() });
    expect(await after.login()).toBe(0);
    const again = await after.requestJob();
    expect(again.status).toBe(0);
    expect(again.job?.frame).toBe("0005");
    expect(await after.upload(await after.render(again.job as JobOffer))).toBe(0);
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
    // The old session is gone: its cookie no longer works.
    expect(await before.keepAlive()).not.toBe(0);
  });

  it("another machine of the same user keeps its session and its frame", async () => {
    await gw.submit("two-boxes", { frames: "1-2" });
    const a = gw.client("box-one", { instantImage: testExr() });
    const b = gw.client("box-two", { instantImage: testExr() });
    expect(await a.login()).toBe(0);
    const ja = await a.requestJob();
    expect(ja.status).toBe(0);
    expect(await b.login()).toBe(0);
    expect(await a.keepAlive(ja.job)).toBe(0);
    expect(await a.upload(await a.render(ja.job as JobOffer))).toBe(0);
  });

  it("connected_machine counts live sessions only (not ended or disabled ones)", async () => {
    await gw.submit("counting", { frames: "1-20" });
    const x = gw.client("count-x", { instantImage: testExr() });
    const y = gw.client("count-y", { instantImage: testExr() });
    expect(await x.login()).toBe(0);
    expect(await y.login()).toBe(0);
    await afterStatsCache();
    const both = (await x.requestJob()).stats?.connected_machine ?? -1;
    // y restarts: its old session ends, the new one counts once.
    const y2 = gw.client("count-y", { instantImage: testExr() });
    expect(await y2.login()).toBe(0);
    await afterStatsCache();
    expect((await x.requestJob()).stats?.connected_machine).toBe(both);
    // A disabled session is not a connected machine.
    const ySession = (await gw.farm.sessions.list("sheepit")).find((s) => s.attrs.hostname === "count-y");
    await gw.farm.sessions.update(ySession?.id ?? "", { status: "disabled" });
    await afterStatsCache();
    expect((await x.requestJob()).stats?.connected_machine).toBe(both - 1);
  });
});
