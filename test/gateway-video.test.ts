import { execFile } from "node:child_process";
import fs from "node:fs";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { videoFiles } from "../src/domain/jobs/task-commands.js";
import { testPng } from "./simulators/fake-renderer.js";
import { waitFor } from "./support/farm.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";
import { http, WorkerClient } from "./support/worker-http.js";

/**
 * Who makes a job's video (issue 9.1): only a job with `fps` has one; on a farm where no
 * signed-on client can run ffmpeg (SheepIt clients never can) the gateway makes it with its own
 * ffmpeg, unless GATEWAY_FFMPEG is off, and then the job's view says what it waits for.
 */
const run = promisify(execFile);
const open: SheepitGateway[] = [];
afterAll(async () => {
  for (const gw of open) await gw.close();
});

async function gateway(label: string, env: Record<string, string>) {
  const gw = await startSheepitGateway(label, env);
  open.push(gw);
  return gw;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers read field by field
async function api(gw: SheepitGateway, route: string): Promise<any> {
  return (await http(gw.url, "GET", `/api${route}`)).body;
}

/** SheepIt clients render the job's frames (real PNGs); resolves when all are completed. */
async function renderWithSheepit(gw: SheepitGateway, jobId: string, frames: number) {
  const png = await testPng(32, 18);
  const clients = ["a", "b"].map((n) => gw.client(`${jobId.slice(0, 6)}-${n}`, { instantImage: png }));
  for (const c of clients) expect(await c.login()).toBe(0);
  const done = async () => (await gw.farm.jobs.get(jobId)).completedFrames === frames;
  await Promise.all(clients.map((c) => c.run({ maxRequests: 100, idleMs: 20, done })));
  await waitFor(done, 30_000);
  return clients;
}

async function probeFrames(file: string): Promise<number> {
  const { stdout } = await run("ffprobe", [
    ...["-v", "error", "-count_frames", "-select_streams", "v:0"],
    ...["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", file],
  ]);
  return Number(stdout.trim());
}

describe("the job's video", () => {
  it("on a SheepIt-only farm is made by the gateway's ffmpeg: the job completes with a real MP4", async () => {
    const gw = await gateway("gwvideo-on", { GATEWAY_FFMPEG: "true" });
    const posted = await gw.post("gw-pngs", { frames: "1-8", format: "PNG", output_file_extension: ".png", fps: 24 });
    const before = await api(gw, `/jobs/${posted.id}`);
    expect(before.activity).toBe("video follows once every frame is rendered");
    // The video task is in the task list from the start, queued.
    const listed = await api(gw, `/jobs/${posted.id}/tasks`);
    expect(listed.tasks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "frames-to-video", status: "queued", task_type: "ffmpeg" }),
      ]),
    );
    const waiting = listed.tasks.find((t: { name: string }) => t.name === "frames-to-video");
    const one = await api(gw, `/tasks/${waiting.id}`);
    expect(one).toMatchObject({ id: waiting.id, job_id: posted.id, status: "queued", task_type: "ffmpeg" });
    await renderWithSheepit(gw, posted.id, 8);
    await waitFor(async () => (await gw.farm.jobs.get(posted.id)).status === "completed", 30_000);

    const job = await gw.farm.jobs.get(posted.id);
    expect(job).toMatchObject({ completedFrames: 8, failedFrames: 0, videoState: "completed" });
    const { outputFile } = videoFiles(job);
    expect(await probeFrames(outputFile)).toBe(8);
    expect((await api(gw, `/jobs/${posted.id}`)).activity).toBe("video made by the gateway");
    const tasks = (await api(gw, `/jobs/${posted.id}/tasks`)).tasks as Array<Record<string, unknown>>;
    const video = tasks.filter((t) => t.name === "frames-to-video");
    expect(video).toEqual([
      expect.objectContaining({ status: "completed", worker: expect.objectContaining({ protocol: "gateway" }) }),
    ]);
    const log = await http(gw.url, "GET", `/api/tasks/${video[0]?.id}/log`);
    expect(log.text).toContain("-framerate 24");
    expect(log.text).toContain(`wrote ${outputFile}`);
    // SheepIt clients were never told there was work left for them once the frames were done.
    // (waiting_project and renderable_project carry the same figure; the simulator reads the first.)
    await new Promise((r) => setTimeout(r, 1100)); // the stats cache
    const c = gw.client("gw-late");
    expect(await c.login()).toBe(0);
    const r = await c.requestJob();
    expect(r.status).toBe(200);
    expect(r.stats).toMatchObject({ waiting_project: 0, frame_remaining: 0 });
  });

  it("turned off: the video waits, visibly, and SheepIt clients are not told the job is renderable", async () => {
    const gw = await gateway("gwvideo-off", { GATEWAY_FFMPEG: "false" });
    const posted = await gw.post("wait-pngs", { frames: "1-3", format: "PNG", output_file_extension: ".png", fps: 24 });
    const [client] = await renderWithSheepit(gw, posted.id, 3);
    // Give the sweep its chances: nothing takes the video.
    await new Promise((r) => setTimeout(r, 600));
    const job = await api(gw, `/jobs/${posted.id}`);
    expect(job.status).toBe("active");
    expect(job.activity).toMatch(/waits for an ffmpeg-capable worker.*GATEWAY_FFMPEG is off/);
    const tasks = (await api(gw, `/jobs/${posted.id}/tasks`)).tasks as Array<Record<string, unknown>>;
    expect(tasks.filter((t) => t.name === "frames-to-video")).toEqual([
      expect.objectContaining({ status: "queued", activity: expect.stringContaining("waits for an ffmpeg-capable") }),
    ]);
    await new Promise((r) => setTimeout(r, 1100)); // the stats cache
    const r = await client?.requestJob();
    expect(r?.status).toBe(200);
    expect(r?.stats).toMatchObject({ waiting_project: 0, frame_remaining: 0 });
    // An ffmpeg-capable worker signs on: the view says so, and it gets the video.
    const w = await new WorkerClient(gw.url, "late-ffmpeg", "linux", ["ffmpeg"]).awake();
    expect((await api(gw, `/jobs/${posted.id}`)).activity).toMatch(/one is signed on/);
    const t = await w.task();
    expect(t.status).toBe(200);
    expect((t.body as { name: string }).name).toBe("frames-to-video");
  });

  it("is not made for a job without fps: it completes when its frames do", async () => {
    const gw = await gateway("gwvideo-nofps", { GATEWAY_FFMPEG: "true" });
    const posted = await gw.post("nofps", {
      frames: "1-3",
      format: "PNG",
      output_file_extension: ".png",
      fps: undefined,
    });
    await renderWithSheepit(gw, posted.id, 3);
    const job = await gw.farm.jobs.get(posted.id);
    expect(job).toMatchObject({ status: "completed", hasVideo: false, videoState: "" });
    const tasks = (await api(gw, `/jobs/${posted.id}/tasks`)).tasks as Array<{ name: string }>;
    expect(tasks.map((t) => t.name)).not.toContain("frames-to-video");
    expect((await api(gw, `/jobs/${posted.id}`)).activity).toBeUndefined();
  });

  it("fails under the normal rules when the gateway's ffmpeg cannot run, with the reason in the task log", async () => {
    const gw = await gateway("gwvideo-broken", {
      GATEWAY_FFMPEG: "true",
      FFMPEG_CMD: "/nonexistent/ffmpeg",
      TASK_FAIL_WORKERS: "1",
    });
    const posted = await gw.post("broken", { frames: "1-2", format: "PNG", output_file_extension: ".png", fps: 24 });
    await renderWithSheepit(gw, posted.id, 2);
    await waitFor(async () => (await gw.farm.jobs.get(posted.id)).status === "failed", 30_000);
    const tasks = (await api(gw, `/jobs/${posted.id}/tasks`)).tasks as Array<{
      id: string;
      name: string;
      status: string;
    }>;
    const video = tasks.find((t) => t.name === "frames-to-video");
    expect(video?.status).toBe("failed");
    const log = await http(gw.url, "GET", `/api/tasks/${video?.id}/log`);
    expect(log.text).toContain("/nonexistent/ffmpeg");
    expect(log.text).toContain("ffmpeg did not run");
    expect(fs.existsSync(videoFiles(await gw.farm.jobs.get(posted.id)).outputFile)).toBe(false);
  });
});
