import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FlamencoV3WorkerSim } from "./simulators/flamenco-v3-worker.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { expectMatchesV3 } from "./support/openapi-v3.js";

/**
 * Flamenco 3's intermediate folder and move-to-final against a real gateway: frames (and the
 * preview video) go to `<final>__intermediate-<timestamp>`; when the last task is done the gateway
 * moves that folder to the final one (an existing final folder renamed aside first), and only then
 * is the job `completed`. A process that stops before the move leaves it to any process's sweep.
 */

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway("flamenco-v3-final", { GATEWAY_FFMPEG: "false" });
});
afterAll(async () => {
  await gw?.close();
});

async function submit(finalPattern: string, extra: Record<string, unknown> = {}) {
  const storage = gw.farm.config.storageRoot;
  const res = await fetch(`${gw.url}/api/v3/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name: "final",
      type: "simple-blender-render",
      submitter_platform: "linux",
      settings: {
        frames: "1-4",
        chunk_size: 2,
        render_output_root: path.join(storage, "out"),
        add_path_components: 0,
        render_output_path: path.join(storage, "out", finalPattern),
        blendfile: path.join(storage, "jobs", "final.blend"),
        images_or_video: "images",
        format: "PNG",
        image_file_extension: ".png",
        ...extra,
      },
    }),
  });
  const body = (await res.json()) as { id: string; settings: Record<string, string> };
  expect(res.status, JSON.stringify(body)).toBe(200);
  expectMatchesV3("Job", body);
  const job = await gw.farm.jobs.get(body.id);
  return {
    id: body.id,
    final: path.dirname(String(job.settings.render_output_path)),
    intermediate: path.dirname(String(job.settings.render_output)),
  };
}

async function renderAll(w: FlamencoV3WorkerSim) {
  while (await w.runTask()) {
    // one task after another until the Manager has none
  }
}

describe("move-to-final", () => {
  it("renders into the intermediate folder and moves it to the final one before the job completes", async () => {
    const job = await submit("shot-a/{timestamp}/######", { fps: 24 });
    expect(path.basename(job.intermediate)).toBe(
      `${path.basename(job.final)}__intermediate-${path.basename(job.final)}`,
    );
    const w = new FlamencoV3WorkerSim(gw.url);
    await w.start();
    const first = await w.runTask();
    expect(first?.task.name).toBe("render-1,2");
    expect(fs.readdirSync(job.intermediate).sort()).toEqual(["000001.png", "000002.png"]);
    expect(fs.existsSync(job.final)).toBe(false);
    await renderAll(w);
    expect(w.tasks.map((t) => t.task.name)).toEqual(["render-1,2", "render-3,4", "preview-video"]);
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
    expect(fs.readdirSync(job.final).sort()).toEqual([
      "000001.png",
      "000002.png",
      "000003.png",
      "000004.png",
      "final-1-4.mp4",
    ]);
    expect(fs.existsSync(job.intermediate)).toBe(false);
  });

  it("renames a final folder that exists aside, as Flamenco 3's move-directory does", async () => {
    const job = await submit("shot-b/######");
    fs.mkdirSync(job.final, { recursive: true });
    fs.writeFileSync(path.join(job.final, "000001.png"), "an older render");
    const w = new FlamencoV3WorkerSim(gw.url);
    await w.start();
    await renderAll(w);
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
    expect(fs.readdirSync(job.final)).toHaveLength(4);
    const aside = fs.readdirSync(path.dirname(job.final)).filter((n) => /^shot-b-\d{4}-\d\d-\d\d_\d{6}$/.test(n));
    expect(aside).toHaveLength(1);
    const old = path.join(path.dirname(job.final), aside[0] as string, "000001.png");
    expect(fs.readFileSync(old, "utf8")).toBe("an older render");
  });

  it("renders a requeued completed job into a fresh intermediate folder and moves it again", async () => {
    const job = await submit("shot-r/######");
    const w = new FlamencoV3WorkerSim(gw.url);
    await w.start();
    await renderAll(w);
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
    await gw.farm.jobs.setStatus(job.id, "requeued", "again");
    expect(await gw.farm.redis.smembers(gw.farm.keys.other("final-moves"))).toContain(job.id);
    await renderAll(w);
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
    expect(fs.readdirSync(job.final)).toHaveLength(4);
    expect(fs.existsSync(job.intermediate)).toBe(false);
    // The first run's folder was renamed aside, not overwritten.
    const aside = fs.readdirSync(path.dirname(job.final)).filter((n) => n.startsWith("shot-r-"));
    expect(aside).toHaveLength(1);
  });

  it("leaves a job whose move another process holds active; the sweep completes it later", async () => {
    const job = await submit("shot-c/######");
    // The sweep looks only at the jobs noted as ending with a move.
    const noted = () => gw.farm.redis.smembers(gw.farm.keys.other("final-moves"));
    expect(await noted()).toContain(job.id);
    const lock = gw.farm.keys.sweepLock(`move-to-final:${job.id}`);
    await gw.farm.redis.set(lock, "another-process", "PX", 60_000);
    const w = new FlamencoV3WorkerSim(gw.url);
    await w.start();
    await renderAll(w);
    const waiting = await gw.farm.jobs.get(job.id);
    expect(waiting.completedFrames).toBe(4);
    expect(waiting.status).toBe("active");
    expect(fs.readdirSync(job.intermediate)).toHaveLength(4);
    // The other process stopped: its lock ran out.
    await gw.farm.redis.del(lock);
    await gw.farm.sweep();
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
    expect(fs.readdirSync(job.final)).toHaveLength(4);
    expect(await noted()).not.toContain(job.id);
    // A canceled job is forgotten by the next sweep.
    const other = await submit("shot-e/######");
    expect(await noted()).toContain(other.id);
    await gw.farm.jobs.setStatus(other.id, "cancel-requested");
    await gw.farm.sweep();
    expect(await noted()).not.toContain(other.id);
  });

  it("fails the job, saying why, when the final folder now leads outside the storage", async () => {
    const job = await submit("shot-d/######");
    const outside = fs.mkdtempSync(path.join(path.dirname(gw.farm.config.storageRoot), "bw-outside-"));
    fs.mkdirSync(path.dirname(job.final), { recursive: true });
    fs.symlinkSync(outside, job.final);
    const w = new FlamencoV3WorkerSim(gw.url);
    await w.start();
    await renderAll(w);
    const failed = await gw.farm.jobs.get(job.id);
    expect(failed.status).toBe("failed");
    expect(failed.reason).toMatch(/cannot be moved to its final folder.*outside the farm storage/);
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.readdirSync(job.intermediate)).toHaveLength(4);
    fs.rmSync(outside, { recursive: true, force: true });
  });
});
