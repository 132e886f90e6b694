import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testExr } from "./simulators/fake-renderer.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";
import { WorkerClient } from "./support/worker-http.js";

/**
 * The `<stats>` of request_job: the user's points and the farm's real figures. Each gateway
 * caches the farm figures for a second, so the test lets that pass between the requests it reads.
 */
const afterStatsCache = () => new Promise((r) => setTimeout(r, 1100));

let gw: SheepitGateway;
beforeAll(async () => {
  gw = await startSheepitGateway("sheepit-stats");
});
afterAll(async () => {
  await gw.close();
});

describe("request_job <stats>", () => {
  it("credit points per accepted frame and show the farm as it is", async () => {
    await gw.submit("stats-a", { frames: "1-4" });
    await gw.submit("stats-b", { frames: "1-3" });
    const exr = testExr();
    const one = gw.client("stats-1", { instantImage: exr });
    const two = gw.client("stats-2", { instantImage: exr });
    expect(await one.login()).toBe(0);
    expect(await two.login()).toBe(0);
    // A Flamenco worker is a connected machine too.
    await new WorkerClient(gw.url, "stats-worker", "linux", ["ffmpeg"]).awake();

    const first = await one.requestJob();
    expect(first.status).toBe(0);
    expect(first.stats).toMatchObject({
      credits_session: 0,
      credits_total: 0,
      frame_remaining: 7,
      waiting_project: 2,
      connected_machine: 3,
    });
    const rendered = await one.render(first.job as NonNullable<typeof first.job>);
    expect(await one.upload(rendered)).toBe(0);

    await afterStatsCache();
    const second = await one.requestJob();
    expect(second.status).toBe(0);
    // One point for an instant frame (the README's rule: one per started minute, at least one).
    expect(second.stats).toMatchObject({ credits_session: 1, credits_total: 1, frame_remaining: 6 });
    expect(await one.upload(await one.render(second.job as NonNullable<typeof second.job>))).toBe(0);

    // The other machine of the same user: its own session credits, the user's total.
    await afterStatsCache();
    const third = await two.requestJob();
    expect(third.stats).toMatchObject({ credits_session: 0, credits_total: 2, frame_remaining: 5 });
    const done = (await gw.farm.jobs.list()).reduce((n, j) => n + j.completedFrames, 0);
    expect(done).toBe(2);
  });
});
