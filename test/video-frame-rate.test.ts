import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { Job } from "../src/domain/jobs/job.js";
import { taskCommands } from "../src/domain/jobs/task-commands.js";
import { framesToVideoCommandLine } from "../src/domain/video/video-rule.js";

const run = promisify(execFile);
const root = fs.mkdtempSync(path.join(os.tmpdir(), "bw-video-rate-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** 300 tiny PNGs named as Blender names them (`######` → 000001.png ...), made by ffmpeg itself. */
async function frames(dir: string, count: number): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await run("ffmpeg", [
    ...["-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x36:rate=24"],
    ...["-frames:v", String(count), "-start_number", "1", path.join(dir, "%06d.png")],
  ]);
}

function jobFor(dir: string, fps: number): Job {
  return {
    id: "4b8e0c4e-8a0e-4a8b-9a6a-7d7b0c5f2d11",
    name: "rate",
    type: "simple-blender-render",
    settings: {
      filepath: path.join(root, "scene.blend"),
      render_output: path.join(dir, "######"),
      frames: "1-300",
      format: "PNG",
      output_file_extension: ".png",
      fps,
    },
  } as unknown as Job;
}

/** Runs the handed-out command as the Flamenco worker does: exe argsBefore -pattern_type glob -i <glob> args <out>. */
async function runAsWorker(job: Job): Promise<string> {
  const [cmd] = taskCommands(job, { phase: "video", frames: [] }, { blender: "blender", ffmpeg: "ffmpeg" });
  expect(cmd?.name).toBe("frames-to-video");
  const p = cmd?.parameters as {
    exe: string;
    argsBefore: string[];
    inputGlob: string;
    outputFile: string;
    args: string[];
  };
  const argv = [p.exe, ...p.argsBefore, "-pattern_type", "glob", "-i", p.inputGlob, ...p.args, p.outputFile];
  // The gateway's own run builds the very same command line.
  expect(framesToVideoCommandLine(p)).toEqual(argv);
  await run(argv[0] as string, ["-v", "error", ...argv.slice(1)]);
  return p.outputFile;
}

async function probe(file: string): Promise<{ frames: number; rate: string }> {
  const { stdout } = await run("ffprobe", [
    ...["-v", "error", "-count_frames", "-select_streams", "v:0"],
    ...["-show_entries", "stream=nb_read_frames,r_frame_rate", "-of", "json", file],
  ]);
  const s = JSON.parse(stdout).streams[0] as { nb_read_frames: string; r_frame_rate: string };
  return { frames: Number(s.nb_read_frames), rate: s.r_frame_rate };
}

describe("frames-to-video keeps every frame", () => {
  it("at 24 frames/s: 300 PNGs make a 300-frame video", async () => {
    const dir = path.join(root, "f24");
    await frames(dir, 300);
    const out = await runAsWorker(jobFor(dir, 24));
    expect(await probe(out)).toEqual({ frames: 300, rate: "24/1" });
  });

  it("at 29.97 frames/s (NTSC, given to ffmpeg as 30000/1001): still 300 frames", async () => {
    const dir = path.join(root, "f2997");
    await frames(dir, 300);
    const out = await runAsWorker(jobFor(dir, 29.97));
    expect(await probe(out)).toEqual({ frames: 300, rate: "30000/1001" });
  });

  it("at 23.976 and at 12.5 frames/s too", async () => {
    const dir = path.join(root, "f23976");
    await frames(dir, 120);
    expect((await probe(await runAsWorker(jobFor(dir, 23.976)))).frames).toBe(120);
    expect((await probe(await runAsWorker(jobFor(dir, 12.5)))).frames).toBe(120);
  });
});
