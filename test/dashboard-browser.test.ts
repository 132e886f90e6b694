import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controlTokensOf } from "../src/app/control.js";
import { FlamencoWorkerSim } from "./simulators/flamenco-worker.js";
import { launchBrowser, type TestBrowser } from "./support/browser.js";
import { waitFor } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";
import { ensureWebBuilt } from "./support/web-build.js";

/**
 * The web dashboard in a real browser (Debian's chromium through playwright-core): jobs rendered
 * by the simulators change on screen while the page stays open; the actions work; a page from a
 * network that is not a control network gets nothing without a token.
 */

let b: TestBrowser;
let gw: SheepitGateway;
const sims: FlamencoWorkerSim[] = [];

beforeAll(async () => {
  ensureWebBuilt();
  [b, gw] = await Promise.all([launchBrowser(), startSheepitGateway("dash-web", { TASK_TIMEOUT: "2m" })]);
}, 60_000);
afterAll(async () => {
  for (const s of sims) await s.stop().catch(() => undefined);
  await b?.close();
  await gw?.close();
});

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await res.json()) as { id: string };
}

/** Counts of each frame-state colour drawn on the job's canvas (read from its pixels). */
async function gridColours(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    // Runs in the page (DOM types are not part of the gateway's type check).
    // biome-ignore lint/suspicious/noExplicitAny: the page's own globals
    const c = (globalThis as any).document.querySelector("canvas.frame-grid");
    const ctx = c.getContext("2d");
    const cell = Number(c.dataset.cell);
    const perRow = Number(c.dataset.perRow);
    const names: Record<string, string> = { "63,185,80": "done", "224,165,38": "active", "58,63,75": "queued" };
    const out: Record<string, number> = {};
    const n = Math.round((c.width / cell) * (c.height / cell));
    for (let i = 0; i < n; i++) {
      const x = (i % perRow) * cell;
      const y = Math.floor(i / perRow) * cell;
      const [r, g, bl, a] = ctx.getImageData(x, y, 1, 1).data;
      if (!a) continue;
      const k = names[`${r},${g},${bl}`] ?? `${r},${g},${bl}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  });
}

describe("the web dashboard", () => {
  it("shows the farm, then a job's progress, frames and thumbnails changing live as simulators render it", async () => {
    const page = await b.context.newPage();
    await page.goto(gw.url);
    await page.getByTestId("live").filter({ hasText: "live" }).waitFor();
    await page.getByText("No job yet").waitFor();

    const job = await post(`${gw.url}/api/jobs`, {
      type: "simple-blender-render",
      name: "Sprite Fright 012",
      priority: 50,
      settings: {
        blender_cmd: "{blender}",
        filepath: gw.scene("sprite"),
        render_output: path.join(gw.storageRoot, "renders", "sprite", "######"),
        frames: "1-12",
        chunk_size: 1,
        images_or_video: "images",
        format: "PNG",
        output_file_extension: ".png",
      },
      metadata: {},
    });
    // The job appears on the open farm page without a reload.
    const row = page.locator(`tr[data-job="${job.id}"]`);
    await row.waitFor();
    expect(await row.getByTestId("job-frames").textContent()).toBe("0/12");

    await row.getByRole("link", { name: "Sprite Fright 012" }).click();
    await page.getByTestId("frame-grid").waitFor();
    // The grid is drawn once the frames are read, a moment after it appears.
    await expect.poll(() => gridColours(page)).toEqual({ queued: 12 });
    await page.getByText("None yet.").waitFor();

    // A Flamenco worker and a SheepIt client render it, slowly enough to watch.
    const sim = new FlamencoWorkerSim({
      url: gw.url,
      renderDelayMs: 150,
      pollMinMs: 20,
      pollMaxMs: 100,
      asleepPollMs: 50,
      retryMs: 100,
    });
    sims.push(sim);
    await sim.start();
    const sheep = gw.client("box-web");
    expect(await sheep.login()).toBe(0);
    const sheepDone = sheep.run({
      maxRequests: 40,
      idleMs: 100,
      done: async () => (await gw.farm.jobs.get(job.id)).status === "completed",
    });

    // Progress moves on screen: some frames done while others are not yet.
    await waitFor(async () => {
      const text = (await page.getByTestId("job-progress").textContent()) ?? "";
      const done = Number(/^(\d+) of 12/.exec(text)?.[1] ?? 0);
      return done > 0 && done < 12;
    }, 20_000);
    const midway = await gridColours(page);
    expect(midway.done ?? 0).toBeGreaterThan(0);
    expect((midway.queued ?? 0) + (midway.active ?? 0)).toBeGreaterThan(0);
    await page.getByTestId("thumb").first().and(page.locator('[data-loaded="yes"]')).waitFor();

    await page.getByTestId("job-status").filter({ hasText: "completed" }).waitFor({ timeout: 20_000 });
    await page.getByTestId("job-progress").filter({ hasText: "12 of 12 frames done" }).waitFor();
    await waitFor(async () => (await gridColours(page)).done === 12);
    await waitFor(async () => (await page.locator('[data-testid="thumb"][data-loaded="yes"]').count()) === 12, 10_000);
    await page.locator('[data-testid="last-rendered"][data-loaded="yes"]').waitFor();
    await sheepDone;

    // Tasks with their holder, and a task's log.
    const tasks = page.getByTestId("tasks");
    await tasks.getByText("(sheepit)").first().waitFor();
    await tasks.getByText("(flamenco)").first().waitFor();
    await tasks.getByRole("button", { name: "Log" }).first().click();
    await page.getByTestId("task-log").waitFor();

    // Both clients in one list, with the frames each did.
    await page.goto(`${gw.url}/#/clients`);
    const clients = page.getByTestId("clients");
    await clients.locator(`tr[data-client="${sim.nickname}"]`).getByText("Flamenco").waitFor();
    await clients.locator('tr[data-client*="box-web"]').getByText("SheepIt").waitFor();
    await page.close();
  }, 60_000);

  it("runs the job and client actions, asking before it destroys anything", async () => {
    const page = await b.context.newPage();
    const dialogs: string[] = [];
    let accept = false;
    page.on("dialog", async (d) => {
      dialogs.push(d.type());
      if (d.type() === "prompt") await d.accept("75");
      else if (accept) await d.accept();
      else await d.dismiss();
    });
    // The Flamenco worker is put to sleep first (so nothing takes the job's frames meanwhile).
    const sim = sims[0] as FlamencoWorkerSim;
    const worker = (await gw.farm.sessions.list("flamenco")).find((s) => s.name === sim.nickname);
    await page.goto(`${gw.url}/#/clients/${worker?.id}`);
    await page.getByRole("button", { name: "Sleep" }).click();
    await page.getByTestId("client-status").filter({ hasText: "asleep" }).waitFor({ timeout: 10_000 });

    const job = await post(`${gw.url}/api/jobs`, {
      type: "simple-blender-render",
      name: "Actions",
      priority: 50,
      settings: {
        blender_cmd: "{blender}",
        filepath: gw.scene("actions"),
        render_output: path.join(gw.storageRoot, "renders", "actions", "######"),
        frames: "1-5000",
        chunk_size: 1,
        images_or_video: "images",
        format: "PNG",
        output_file_extension: ".png",
      },
      metadata: {},
    });

    await page.goto(`${gw.url}/#/jobs/${job.id}`);
    const status = page.getByTestId("job-status");
    await status.filter({ hasText: "queued" }).waitFor();
    await page.getByRole("button", { name: "Pause" }).click();
    await status.filter({ hasText: "paused" }).waitFor();
    await page.getByRole("button", { name: "Resume" }).click();
    await status.filter({ hasText: "queued" }).waitFor();
    await page.getByRole("button", { name: "Priority…" }).click();
    await page.getByTestId("job-priority").filter({ hasText: "75" }).waitFor();

    // Declined: nothing happens.
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("button", { name: "Delete" }).click();
    expect(dialogs).toEqual(["prompt", "confirm", "confirm"]);
    expect((await gw.farm.jobs.get(job.id)).status).toBe("queued");
    accept = true;
    await page.getByRole("button", { name: "Cancel" }).click();
    await status.filter({ hasText: "canceled" }).waitFor();
    await page.getByRole("button", { name: "Requeue" }).click();
    await status.filter({ hasText: "requeued" }).waitFor();
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByTestId("jobs").waitFor();
    await waitFor(async () => (await page.locator(`tr[data-job="${job.id}"]`).count()) === 0);
    await expect(gw.farm.jobs.get(job.id)).rejects.toThrow();

    // The Flamenco worker is woken again; a SheepIt session is ended.
    await page.goto(`${gw.url}/#/clients/${worker?.id}`);
    await page.getByRole("button", { name: "Wake" }).click();
    await page.getByTestId("client-status").filter({ hasText: "awake" }).waitFor({ timeout: 10_000 });

    const sheep = (await gw.farm.sessions.list("sheepit"))[0];
    expect(sheep).toBeDefined();
    await page.goto(`${gw.url}/#/clients/${encodeURIComponent(sheep?.id ?? "")}`);
    await page.getByRole("button", { name: "End session" }).click();
    await page.getByTestId("clients").waitFor();
    await waitFor(async () => (await gw.farm.sessions.get(sheep?.id ?? "")) === null);
    await page.close();
  }, 60_000);

  it("reconnects by itself when its event stream is cut, and shows what changed meanwhile", async () => {
    const page = await b.context.newPage();
    let streams = 0;
    page.on("request", (r) => {
      if (r.url().endsWith("/api/dashboard/events")) streams++;
    });
    const job = await post(`${gw.url}/api/jobs`, {
      type: "simple-blender-render",
      name: "Reconnect",
      priority: 40,
      settings: {
        blender_cmd: "{blender}",
        filepath: gw.scene("reconnect"),
        render_output: path.join(gw.storageRoot, "renders", "reconnect", "######"),
        frames: "1-3",
        chunk_size: 1,
        images_or_video: "images",
        format: "PNG",
        output_file_extension: ".png",
      },
      metadata: {},
    });
    await page.goto(gw.url);
    await page.getByTestId("live").filter({ hasText: "live" }).waitFor();
    const row = page.locator(`tr[data-job="${job.id}"]`);
    await row.waitFor();
    expect(streams).toBe(1);

    // The stream is cut; the change made right away is published while no stream is open
    // (the page waits a second before it reconnects), so only the re-read after it shows it.
    gw.dropConnections();
    await gw.farm.jobs.setPriority(job.id, 93);
    await row.locator("td.num").filter({ hasText: "93" }).first().waitFor({ timeout: 10_000 });
    await page.getByTestId("live").filter({ hasText: "live" }).waitFor();
    expect(streams).toBe(2);
    await page.close();
  }, 30_000);

  it("refuses a page without credentials from a non-control network; a token entered once is kept", async () => {
    const foreign: TestGateway = await startTestGateway("dash-web-foreign", {
      CONTROL_ALLOWED_NETWORKS: "192.0.2.0/24",
    });
    try {
      await foreign.farm.jobs.list();
      const page = await b.context.newPage();
      await page.goto(foreign.url);
      await page.getByTestId("token-form").waitFor();
      expect(await page.getByTestId("jobs").count()).toBe(0);
      await page.locator('input[name="token"]').fill("not-a-token");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByTestId("token-form").waitFor();

      const { token } = await controlTokensOf(foreign.farm).add("browser");
      await page.locator('input[name="token"]').fill(token);
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText("No job yet").waitFor();
      await page.getByTestId("live").filter({ hasText: "live" }).waitFor();
      // Kept in the browser: a reload needs no new entry, and the token is in no URL.
      await page.reload();
      await page.getByText("No job yet").waitFor();
      expect(page.url()).not.toContain(token);
      await page.close();
    } finally {
      await foreign.close();
    }
  }, 30_000);
});
