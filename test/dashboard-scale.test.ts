import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, type TestBrowser } from "./support/browser.js";
import { waitFor } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { ensureWebBuilt } from "./support/web-build.js";

/**
 * The dashboard at the scale, in a real browser: a 100,000-frame job's grid is drawn, and
 * a frame that a client claims and then completes changes colour on the open page within a few
 * seconds, from the frame changes the events carry: neither the page nor the gateway reads all
 * 100,000 frames again for it (the page's frame reads and full redraws are counted). The farm
 * view with 1,000 connected clients lists them all and shows one's change live.
 */

const FRAMES = 100_000;
const CLIENTS = 1000;
/** How long a change may take to show: far above the usual tens of milliseconds, far below a reload. */
const VISIBLE_WITHIN_MS = 5000;

let b: TestBrowser;
let gw: TestGateway;

beforeAll(async () => {
  ensureWebBuilt();
  [b, gw] = await Promise.all([
    launchBrowser(),
    startTestGateway("dash-scale", { TASK_TIMEOUT: "10m", WORKER_TIMEOUT: "10m" }),
  ]);
}, 60_000);
afterAll(async () => {
  await b?.close();
  await gw?.close();
});

/** The colour drawn for frame `index` on the job's canvas, as "r,g,b". */
function cellColour(page: Page, index: number): Promise<string> {
  return page.evaluate((i) => {
    // biome-ignore lint/suspicious/noExplicitAny: the page's own globals (DOM types are not in the gateway's type check)
    const c = (globalThis as any).document.querySelector("canvas.frame-grid");
    const cell = Number(c.dataset.cell);
    const perRow = Number(c.dataset.perRow);
    const [r, g, bl] = c.getContext("2d").getImageData((i % perRow) * cell, Math.floor(i / perRow) * cell, 1, 1).data;
    return `${r},${g},${bl}`;
  }, index);
}

const QUEUED = "58,63,75";
const ACTIVE = "224,165,38";
const DONE = "63,185,80";

async function visibleWithin(what: string, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  await waitFor(check, VISIBLE_WITHIN_MS, 20).catch(() => {
    throw new Error(`${what} not visible within ${VISIBLE_WITHIN_MS} ms`);
  });
  return Date.now() - t0;
}

describe("the dashboard at scale", () => {
  it("draws a 100,000-frame job and shows a frame's changes live without reading every frame again", async () => {
    const job = await gw.farm.jobs.submit({
      type: "simple-blender-render",
      name: "Hundred thousand",
      priority: 50,
      settings: {
        blender_cmd: "{blender}",
        filepath: path.join(gw.storageRoot, "projects", "big", "scene.blend"),
        render_output: path.join(gw.storageRoot, "renders", "big", "######"),
        frames: `1-${FRAMES}`,
        chunk_size: 1,
        images_or_video: "images",
        format: "PNG",
        output_file_extension: ".png",
      },
      metadata: {},
    });
    const page = await b.context.newPage();
    const frameReads: string[] = [];
    page.on("request", (r) => {
      if (/\/api\/dashboard\/jobs\/[^/]+\/frames$/.test(new URL(r.url()).pathname)) frameReads.push(r.url());
    });
    await page.goto(`${gw.url}/#/jobs/${job.id}`);
    await page.getByTestId("live").filter({ hasText: "live" }).waitFor();
    const grid = page.getByTestId("frame-grid");
    await grid.waitFor({ timeout: 20_000 });
    expect(JSON.parse((await grid.getAttribute("data-counts")) ?? "{}").q).toBe(FRAMES);
    expect(await cellColour(page, 0)).toBe(QUEUED);
    expect(await cellColour(page, FRAMES - 1)).toBe(QUEUED);

    // A client takes frames (the first claim also starts the job: that status change may read again).
    const claim = (sessionId: string) =>
      waitFor(async () =>
        gw.farm.work.claim({
          caps: { sessionId, taskTypes: ["blender"], device: "any" },
          maxFrames: 3,
          leaseMs: 600_000,
        }),
      );
    const warm = await claim("scale-warm");
    await gw.farm.work.complete(warm.lease.id, "scale-warm");
    const last = warm.lease.indices.at(-1) as number;
    await visibleWithin("the first frames done", async () => (await cellColour(page, last)) === DONE);
    await page.getByTestId("job-status").filter({ hasText: "active" }).waitFor();
    // Settled: no whole read of the frames waiting, under way or undrawn (the canvas says so at once).
    const settled = () => page.locator('canvas.frame-grid[data-reading="no"]').waitFor();
    await settled();
    const readsBefore = frameReads.length;
    const pageReadsBefore = await grid.getAttribute("data-reads");
    const drawsBefore = await grid.getAttribute("data-full-draws");

    // The measured change: claimed, then completed, each visible within the bound.
    const got = await claim("scale-1");
    const [first] = got.lease.indices as [number];
    const activeMs = await visibleWithin("a claimed frame", async () => (await cellColour(page, first)) === ACTIVE);
    await gw.farm.work.complete(got.lease.id, "scale-1");
    const doneMs = await visibleWithin("a completed frame", async () => (await cellColour(page, first)) === DONE);
    expect(JSON.parse((await grid.getAttribute("data-counts")) ?? "{}")).toMatchObject({ d: 6, q: FRAMES - 6 });
    expect(await cellColour(page, FRAMES - 1)).toBe(QUEUED);
    // Cell by cell: no whole read of the frames (none done, none waiting) and no full redraw.
    await settled();
    expect(frameReads.length).toBe(readsBefore);
    expect(await grid.getAttribute("data-reads")).toBe(pageReadsBefore);
    expect(await grid.getAttribute("data-full-draws")).toBe(drawsBefore);
    expect(activeMs + doneMs).toBeLessThan(2 * VISIBLE_WITHIN_MS);
    await page.close();
  }, 90_000);

  it("lists 1,000 connected clients on the farm view and shows one's change live", async () => {
    const now = Date.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, (_, k) =>
        gw.farm.sessions.put({
          id: `scale-client-${k}`,
          protocol: k % 2 ? "flamenco" : "sheepit",
          name: `node-${String(k).padStart(4, "0")}`,
          status: "awake",
          caps: { sessionId: `scale-client-${k}`, taskTypes: ["blender"], device: "any" },
          created: new Date(now).toISOString(),
          lastSeen: now,
          attrs: {},
        }),
      ),
    );
    const page = await b.context.newPage();
    await page.goto(gw.url);
    await page.getByTestId("live").filter({ hasText: "live" }).waitFor();
    await waitFor(async () => (await page.locator('tr[data-client^="node-"]').count()) === CLIENTS, 20_000);
    await gw.farm.sessions.update("scale-client-7", { status: "asleep" });
    await visibleWithin(
      "a client's new status",
      async () => (await page.locator('tr[data-client="node-0007"]').getByText("asleep").count()) === 1,
    );
    await page.close();
  }, 90_000);
});
