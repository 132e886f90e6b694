import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderClientsOf } from "../src/app/render-clients.js";
import { FlamencoWorkerSim } from "./simulators/flamenco-worker.js";
import { SheepItClient } from "./simulators/sheepit-client.js";
import {
  makeBlenderScene,
  requireTool,
  SCENE_HEIGHT,
  SCENE_WIDTH,
  systemBlenderRendererZip,
} from "./support/blender-scene.js";
import { waitFor } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

/**
 * Real renders: the system Blender and ffmpeg run exactly what the gateway hands out, a Flamenco
 * worker's `blender-render` and `frames-to-video` commands and a SheepIt client's command line and
 * script (the project as one archive for a 2022 client, as chunks for a 2024 one), on a tiny real scene. This is what catches a command line real Blender or ffmpeg would
 * refuse. Few frames (6), so it stays quick. Missing blender or ffmpeg is a failure, not a skip.
 */

const FRAMES = 6;
const PASSWORD = "real render password";

let gw: TestGateway;
let scratch: string;
let blend: string;
const sims: FlamencoWorkerSim[] = [];

beforeAll(async () => {
  requireTool("blender");
  requireTool("ffmpeg");
  requireTool("ffprobe");
  // Small chunks, so the 2024 client puts the real scene together from several.
  gw = await startTestGateway("real-render", { SHEEPIT_LEASE: "10m", TASK_TIMEOUT: "10m", SHEEPIT_CHUNK_SIZE: "16KB" });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bw-real-render-"));
  const rc = renderClientsOf(gw.farm);
  await rc.renderers.add(await systemBlenderRendererZip(scratch), {
    name: "system-blender",
    os: "linux",
    bits: "64bit",
    isDefault: true,
  });
  await rc.accounts.add("alice", PASSWORD);
  blend = makeBlenderScene(path.join(gw.storageRoot, "projects", "cube"), "cube", FRAMES);
}, 180_000);

afterAll(async () => {
  for (const s of sims) await s.stop().catch(() => undefined);
  await gw?.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** What ffprobe says of a video: its size and the frames it really holds (decoded and counted). */
function probe(file: string): { codec: string; width: number; height: number; frames: number } {
  const res = spawnSync(
    "ffprobe",
    [
      "-v",
      "error",
      "-count_frames",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=codec_name,width,height,nb_read_frames",
      "-of",
      "json",
      file,
    ],
    { encoding: "utf8" },
  );
  if (res.status !== 0) throw new Error(`ffprobe ${file} failed: ${res.stderr}`);
  const s = (JSON.parse(res.stdout) as { streams: Array<Record<string, unknown>> }).streams[0] ?? {};
  return {
    codec: String(s.codec_name),
    width: Number(s.width),
    height: Number(s.height),
    frames: Number(s.nb_read_frames),
  };
}

describe("real renders with the system Blender and ffmpeg", () => {
  it("a Flamenco worker and a SheepIt client render one job together: real PNGs of the scene, and a real MP4", async () => {
    const renderDir = path.join(gw.storageRoot, "renders", "cube");
    const res = await fetch(`${gw.url}/api/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "simple-blender-render",
        name: "real cube",
        priority: 50,
        settings: {
          blender_cmd: "{blender}",
          filepath: blend,
          render_output: path.join(renderDir, "######"),
          frames: `1-${FRAMES}`,
          chunk_size: 2,
          fps: 24,
          extract_audio: false,
          images_or_video: "images",
          format: "PNG",
          output_file_extension: ".png",
        },
        metadata: {},
      }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const job = (await res.json()) as { id: string };

    const worker = new FlamencoWorkerSim({
      url: gw.url,
      nickname: "real-flamenco",
      taskTypes: ["blender", "ffmpeg"],
      realExec: true,
      pollMinMs: 50,
      pollMaxMs: 300,
      asleepPollMs: 100,
      retryMs: 200,
    });
    sims.push(worker);
    const client = new SheepItClient({
      url: gw.url,
      login: "alice",
      password: PASSWORD,
      workDir: path.join(scratch, "sheepit"),
      hostname: "real-sheepit",
      hwid: "hw-real-sheepit",
      computeMethod: 1,
      retryDelaysMs: [50, 100],
    });
    const done = async () => (await gw.farm.jobs.get(job.id)).status === "completed";
    // A 2024 client renders the first frame from the project it put together from chunks.
    const client2024 = new SheepItClient({
      url: gw.url,
      login: "alice",
      password: PASSWORD,
      workDir: path.join(scratch, "sheepit-2024"),
      hostname: "real-sheepit-2024",
      hwid: "hw-real-sheepit-2024",
      computeMethod: 1,
      dialect: "2024",
      retryDelaysMs: [50, 100],
    });
    expect(await client2024.login()).toBe(0);
    const first = (await client2024.requestJob()).job;
    if (!first) throw new Error("no frame for the 2024 client");
    expect(first.chunks.length).toBeGreaterThan(1);
    expect(await client2024.upload(await client2024.render(first))).toBe(0);
    expect(client2024.assembled[0]?.md5).toBe(first.archiveMd5);
    expect(await client.login()).toBe(0);
    await worker.start();
    await client.run({ maxRequests: 40, idleMs: 200, done });
    await waitFor(
      async () => {
        const j = await gw.farm.jobs.get(job.id);
        if (j.status === "failed") throw new Error(`the job failed: ${JSON.stringify(j)}`);
        return j.status === "completed";
      },
      150_000,
      200,
    );

    // Both kinds rendered frames, each frame once.
    const bySheepit = [...client2024.uploads, ...client.uploads]
      .filter((u) => u.status === 0)
      .map((u) => Number(u.frame));
    const byFlamenco = worker.tasks
      .filter((t) => t.task.task_type === "blender" && t.outcome === "completed")
      .flatMap((t) => t.frames);
    expect(client.uploads.filter((u) => u.status === 0).length).toBeGreaterThan(0);
    expect(byFlamenco.length).toBeGreaterThan(0);
    expect([...bySheepit, ...byFlamenco].sort((a, b) => a - b)).toEqual(
      Array.from({ length: FRAMES }, (_, i) => i + 1),
    );

    // Real PNGs of the scene: the right size, not one flat colour, and the animation moves.
    const pngs = fs
      .readdirSync(renderDir)
      .filter((f) => f.endsWith(".png"))
      .sort();
    expect(pngs).toEqual(Array.from({ length: FRAMES }, (_, i) => `${String(i + 1).padStart(6, "0")}.png`));
    const pixels: Buffer[] = [];
    for (const f of pngs) {
      const img = sharp(path.join(renderDir, f));
      const meta = await img.metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
        format: "png",
        width: SCENE_WIDTH,
        height: SCENE_HEIGHT,
      });
      const stats = await img.stats();
      expect(stats.channels.some((c) => c.max - c.min > 40)).toBe(true);
      // The red cube is there: some pixel is much redder than it is green.
      const raw = await img.removeAlpha().raw().toBuffer();
      let red = 0;
      for (let i = 0; i < raw.length; i += 3) if ((raw[i] ?? 0) > (raw[i + 1] ?? 0) + 60) red++;
      expect(red, `${f}: red cube pixels`).toBeGreaterThan(20);
      pixels.push(raw);
    }
    expect(pixels[0]?.equals(pixels[FRAMES - 1] as Buffer)).toBe(false);

    // The video, made by the Flamenco worker's real ffmpeg: one frame per rendered frame.
    const videoTask = worker.tasks.find((t) => t.task.task_type === "ffmpeg");
    expect(videoTask?.outcome).toBe("completed");
    const mp4 = fs.readdirSync(renderDir).filter((f) => f.endsWith(".mp4"));
    expect(mp4).toHaveLength(1);
    const video = probe(path.join(renderDir, mp4[0] as string));
    expect(video).toEqual({ codec: "h264", width: SCENE_WIDTH, height: SCENE_HEIGHT, frames: FRAMES });
  }, 300_000);
});
