#!/usr/bin/env node
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createBenchFarm, listen } from "../bench/support.js";
import { startLocalRedis } from "../src/app/local-redis.js";
import { createLogger } from "../src/app/logger.js";
import { renderClientsOf } from "../src/app/render-clients.js";
import { createHttpApp } from "../src/app/server.js";
import { startSweeper } from "../src/app/sweeper.js";
import { FlamencoWorkerSim } from "../test/simulators/flamenco-worker.js";
import { SheepItClient } from "../test/simulators/sheepit-client.js";
import { makeBlenderScene, systemBlenderRendererZip } from "../test/support/blender-scene.js";
import { launchBrowser } from "../test/support/browser.js";

/**
 * `npm run screenshots`: the README's pictures of the dashboard, made again from scratch. Starts a
 * redis-server and a gateway of its own, has the simulators render: a small job done at once and a
 * 2,400-frame one a third of the way (placeholder frames), then a 60-frame job of a real Blender
 * scene (a Flamenco worker and a SheepIt client running the system Blender) caught part-way; opens
 * the farm and that job in headless Debian chromium and writes docs/screenshots/*.png.
 */

const OUT = path.resolve(process.argv[2] ?? "docs/screenshots");
const VIEWPORT = { width: 1280, height: 800 };
const PASSWORD = "screenshots only";

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(what: string, check: () => Promise<boolean>, ms = 180_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bw-screenshots-"));
  const redis = await startLocalRedis({ dataDir: path.join(tmp, "redis"), logger: createLogger("warn") });
  process.env.REDIS_URL = redis.url;
  const bf = createBenchFarm("shots", { TASK_TIMEOUT: "2m", SWEEP_INTERVAL: "1s" });
  const { farm, storageRoot } = bf;
  const http = await listen(createHttpApp(farm).fetch);
  (farm.config as { publicUrl: string }).publicUrl = http.url;
  const stopSweeper = startSweeper(() => farm.sweep(), 1000);
  const sims: FlamencoWorkerSim[] = [];
  const browser = await launchBrowser(VIEWPORT);
  try {
    const rc = renderClientsOf(farm);
    await rc.accounts.add("studio", PASSWORD);
    const submit = async (name: string, blend: string, frames: string, priority: number, chunk: number) =>
      farm.jobs.submit({
        type: "simple-blender-render",
        name,
        priority,
        settings: {
          blender_cmd: "{blender}",
          filepath: blend,
          render_output: path.join(storageRoot, "renders", name, "######"),
          frames,
          chunk_size: chunk,
          images_or_video: "images",
          format: "PNG",
          output_file_extension: ".png",
        },
        metadata: {},
      });
    const fakeScene = (name: string) => {
      const dir = path.join(storageRoot, "projects", name);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "scene.blend"), "BLENDER-v300 placeholder\n");
      return path.join(dir, "scene.blend");
    };

    // Placeholder renders by two simulated Flamenco workers: one job done, one a third of the way.
    process.stdout.write(`gateway at ${http.url}; simulators render placeholder frames\n`);
    const titles = await submit("title-card", fakeScene("title-card"), "1-24", 60, 4);
    const big = await submit("forest-flyover", fakeScene("forest-flyover"), "1-2400", 40, 20);
    for (const nickname of ["render-07", "render-08"]) {
      const sim = new FlamencoWorkerSim({ url: http.url, nickname, renderDelayMs: 25, pollMinMs: 50, pollMaxMs: 200 });
      sims.push(sim);
      await sim.start();
    }
    await until("the placeholder jobs", async () => {
      const [t, b] = [await farm.jobs.get(titles.id), await farm.jobs.get(big.id)];
      return t.status === "completed" && b.completedFrames >= 800;
    });
    for (const s of sims.splice(0)) await s.stop();

    // A real scene, rendered by the system Blender through both protocols.
    process.stdout.write("a real scene, rendered by the system blender through both protocols\n");
    const cube = makeBlenderScene(path.join(storageRoot, "projects", "cube-slide"), "cube-slide", 60);
    await rc.renderers.add(await systemBlenderRendererZip(path.join(tmp, "renderer")), {
      name: "system-blender",
      os: "linux",
      bits: "64bit",
      isDefault: true,
    });
    const job = await submit("cube-slide", cube, "1-60", 80, 2);
    const worker = new FlamencoWorkerSim({
      url: http.url,
      nickname: "ws-anna",
      taskTypes: ["blender", "ffmpeg"],
      realExec: true,
      pollMinMs: 100,
      pollMaxMs: 500,
    });
    sims.push(worker);
    await worker.start();
    const sheep = new SheepItClient({
      url: http.url,
      login: "studio",
      password: PASSWORD,
      workDir: path.join(tmp, "sheepit"),
      hostname: "lab-pc-12",
      hwid: "hw-lab-pc-12",
      computeMethod: 1,
      retryDelaysMs: [100, 200],
    });
    if ((await sheep.login()) !== 0) throw new Error("the SheepIt client could not log in");
    let stopSheep = false;
    const sheepRuns = sheep.run({ maxRequests: 500, idleMs: 300, done: () => stopSheep });
    await until("a third of the real job", async () => (await farm.jobs.get(job.id)).completedFrames >= 20);

    fs.mkdirSync(OUT, { recursive: true });
    const page = await browser.context.newPage();
    const shoot = async (name: string) => {
      await sleep(1500); // thumbnails and the chart settle
      await page.screenshot({ path: path.join(OUT, name) });
      process.stdout.write(`wrote ${path.join(OUT, name)}\n`);
    };
    await page.goto(http.url);
    await page.getByTestId("live").filter({ hasText: "live" }).waitFor();
    await page.locator(`tr[data-job="${job.id}"]`).waitFor();
    await shoot("farm.png");
    await page.goto(`${http.url}/#/jobs/${job.id}`);
    await page.getByTestId("frame-grid").waitFor();
    await page.locator('[data-testid="last-rendered"][data-loaded="yes"]').waitFor();
    await shoot("job.png");

    stopSheep = true;
    await sheepRuns.catch(() => undefined);
    await sheep.logout().catch(() => undefined);
  } finally {
    for (const s of sims) await s.stop().catch(() => undefined);
    await browser.close();
    stopSweeper();
    await http.close();
    await bf.close();
    await redis.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`screenshots failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
