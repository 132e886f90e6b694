import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FINAL_MOVE_QUIET_MS } from "../src/domain/jobs/move-to-final.js";
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
    // Requeued: noted for the move-to-final sweep again.
    expect(await gw.farm.redis.zscore(gw.farm.keys.other("final-moves", "out"), job.id)).not.toBeNull();
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
    // The sweep looks only at the jobs that end with a move and whose work was handed out.
    const noted = () => gw.farm.redis.zrange(gw.farm.keys.other("final-moves", "out"), 0, -1);
    expect(await noted()).not.toContain(job.id);
    const lock = gw.farm.keys.sweepLock(`move-to-final:${job.id}`);
    await gw.farm.redis.set(lock, "another-process", "PX", 60_000);
    const w = new FlamencoV3WorkerSim(gw.url);
    await w.start();
    await renderAll(w);
    expect(await noted()).toContain(job.id);
    const waiting = await gw.farm.jobs.get(job.id);
    expect(waiting.completedFrames).toBe(4);
    expect(waiting.status).toBe("active");
    expect(fs.readdirSync(job.intermediate)).toHaveLength(4);
    // The other process stopped: its lock ran out. The sweep looks at notes FINAL_MOVE_QUIET_MS
    // old (a younger one is work in progress); its run that much later completes the job.
    await gw.farm.redis.del(lock);
    await gw.farm.sweep();
    expect((await gw.farm.jobs.get(job.id)).status).toBe("active");
    const later = () => gw.farm.jobs.completeFinished(Date.now() + FINAL_MOVE_QUIET_MS + 1000);
    await later();
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
    expect(fs.readdirSync(job.final)).toHaveLength(4);
    expect(await noted()).not.toContain(job.id);
    // A canceled job is forgotten by the sweep.
    const other = await submit("shot-e/######");
    const got = await gw.farm.work.claim({
      caps: { sessionId: "final-e", taskTypes: ["blender"], device: "any" },
      maxFrames: 1,
      leaseMs: 60_000,
    });
    expect(got?.job.id).toBe(other.id);
    expect(await noted()).toContain(other.id);
    await gw.farm.jobs.setStatus(other.id, "cancel-requested");
    await later();
    expect(await noted()).not.toContain(other.id);
  });

  it("completes a job whose last task was recorded by a process that stopped before its roll-up", async () => {
    const job = await submit("shot-f/######", { frames: "1-2", chunk_size: 1 });
    const noted = () => gw.farm.redis.zrange(gw.farm.keys.other("final-moves", "out"), 0, -1);
    // Each run of the sweep a little more than FINAL_MOVE_QUIET_MS after the last.
    let clock = Date.now();
    const later = () => {
      clock += FINAL_MOVE_QUIET_MS + 1000;
      return gw.farm.jobs.completeFinished(clock);
    };
    const caps = { sessionId: "final-f", taskTypes: ["blender"], device: "any" as const };
    const first = await gw.farm.work.claim({ caps, maxFrames: 1, leaseMs: 60_000 });
    expect(first?.job.id).toBe(job.id);
    // Work out: the job stays noted (looked at again later).
    await later();
    expect(await noted()).toContain(job.id);
    await gw.farm.work.release(first?.lease.id ?? "", caps.sessionId);
    // Nothing out and no claim for a while: forgotten; the next claim notes it again.
    await later();
    expect(await noted()).not.toContain(job.id);
    for (let k = 0; k < 2; k++) {
      const got = await gw.farm.work.claim({ caps, maxFrames: 1, leaseMs: 60_000 });
      expect(got?.job.id).toBe(job.id);
      expect(await noted()).toContain(job.id);
      fs.mkdirSync(job.intermediate, { recursive: true });
      fs.writeFileSync(path.join(job.intermediate, `00000${k + 1}.png`), "frame");
      // The scheduler records the completion; the process stops before WorkService rolls the job up.
      if (got) await gw.farm.scheduler.complete(got.lease);
    }
    expect((await gw.farm.jobs.get(job.id)).status).not.toBe("completed");
    await later();
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
    expect(fs.readdirSync(job.final)).toHaveLength(2);
    expect(await noted()).not.toContain(job.id);
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
