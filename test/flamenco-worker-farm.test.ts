import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  FlamencoWorkerSim,
  type FlamencoWorkerSimOptions,
  parseRenderFrames,
  TINY_PNG,
} from "./simulators/flamenco-worker.js";
import { createTestFarm, exampleJob, waitFor } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { expectMatchesSchema } from "./support/openapi.js";
import { WorkerClient } from "./support/worker-http.js";

/**
 * Simulated Flamenco workers rendering for the farm over HTTP: chunked jobs finished by several
 * workers, the video task last, a worker dying mid-task, tasks timing out, repeated failures, and
 * two gateway processes sharing one Redis.
 */

const open: TestGateway[] = [];
const sims: FlamencoWorkerSim[] = [];

async function gateway(label: string, env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startTestGateway(label, env);
  open.push(gw);
  return gw;
}

function sim(url: string, opts: Partial<FlamencoWorkerSimOptions> = {}): FlamencoWorkerSim {
  const s = new FlamencoWorkerSim({ url, pollMinMs: 20, pollMaxMs: 200, asleepPollMs: 50, retryMs: 100, ...opts });
  sims.push(s);
  return s;
}

afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop().catch(() => undefined);
  for (const gw of open.splice(0).reverse()) await gw.close();
});

const frameFile = (gw: TestGateway, frame: number) =>
  path.join(gw.storageRoot, "frames/scene123", `${String(frame).padStart(6, "0")}.png`);

describe("simulated Flamenco workers", () => {
  it("finish a 30-frame job in chunks of 4 with 3 workers: every frame once, the video last on an ffmpeg worker", async () => {
    const gw = await gateway("fw-farm");
    const job = await gw.farm.jobs.submit(exampleJob(gw.storageRoot, { frames: "1-30", chunk_size: 4 }));
    const workers = [
      sim(gw.url, { nickname: "blender-only-1", taskTypes: ["blender"], renderDelayMs: 5 }),
      sim(gw.url, { nickname: "blender-only-2", taskTypes: ["blender"], renderDelayMs: 5 }),
      sim(gw.url, { nickname: "blender-ffmpeg", taskTypes: ["blender", "ffmpeg"], renderDelayMs: 5 }),
    ];
    await Promise.all(workers.map((w) => w.start()));
    await waitFor(async () => (await gw.farm.jobs.get(job.id)).status === "completed", 30_000);

    const records = workers.flatMap((w) => w.tasks.map((r) => ({ worker: w.nickname, ...r })));
    for (const r of records) expectMatchesSchema("AssignedTask", r.task);
    const renders = records.filter((r) => r.task.task_type === "blender");
    expect(renders.every((r) => r.outcome === "completed")).toBe(true);
    // Every frame completed exactly once, in chunks of at most 4 consecutive frames.
    const frames = renders.flatMap((r) => r.frames).sort((a, b) => a - b);
    expect(frames).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    for (const r of renders) {
      expect(r.frames.length).toBeGreaterThanOrEqual(1);
      expect(r.frames.length).toBeLessThanOrEqual(4);
      const name =
        r.frames.length === 1
          ? `render-${r.frames[0]}`
          : r.frames.length === 2
            ? `render-${r.frames[0]},${r.frames[1]}`
            : `render-${r.frames[0]}-${r.frames.at(-1)}`;
      expect(r.task.name).toBe(name);
    }
    // More than one worker rendered.
    expect(new Set(renders.map((r) => r.worker)).size).toBeGreaterThan(1);
    // The frames are where Blender writes them, as PNGs.
    for (let f = 1; f <= 30; f++) expect(fs.readFileSync(frameFile(gw, f)).equals(TINY_PNG)).toBe(true);

    // One video task, on the ffmpeg worker, after every render finished.
    const videos = records.filter((r) => r.task.task_type === "ffmpeg");
    expect(videos).toHaveLength(1);
    const video = videos[0] as (typeof videos)[number];
    expect(video).toMatchObject({ worker: "blender-ffmpeg", outcome: "completed" });
    expect(video.task.name).toBe("frames-to-video");
    expect(video.started).toBeGreaterThanOrEqual(Math.max(...renders.map((r) => r.finished)));
    expect(fs.existsSync(path.join(gw.storageRoot, "frames/scene123/scene123-1-30.mp4"))).toBe(true);

    const done = await gw.farm.jobs.get(job.id);
    expect(done).toMatchObject({ completedFrames: 30, failedFrames: 0, videoState: "completed" });
  });

  it("lets another worker finish the frames of a worker killed mid-task, after the worker timeout", async () => {
    const gw = await gateway("fw-kill", { WORKER_TIMEOUT: "600ms", SWEEP_INTERVAL: "100ms" });
    const job = await gw.farm.jobs.submit(
      exampleJob(gw.storageRoot, {
        frames: "1-8",
        chunk_size: 4,
        images_or_video: "images",
        format: "OPEN_EXR",
        output_file_extension: ".exr",
      }),
    );
    const doomed = sim(gw.url, { nickname: "doomed", crashMidTask: true });
    await doomed.start();
    await waitFor(async () => doomed.tasks.some((t) => t.outcome === "crashed"));
    const lost = doomed.tasks[0]?.frames ?? [];
    expect(lost.length).toBe(1);
    expect(doomed.answers.some((a) => a.includes("sign-off"))).toBe(false);

    const rescuer = sim(gw.url, { nickname: "rescuer" });
    await rescuer.start();
    await waitFor(async () => (await gw.farm.jobs.get(job.id)).status === "completed", 20_000);
    const rescued = rescuer.tasks
      .filter((t) => t.outcome === "completed")
      .flatMap((t) => t.frames)
      .sort((a, b) => a - b);
    expect(rescued).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // The dead worker is in error, its task was given back (no failure counted against it).
    const dead = (await gw.farm.workers.list()).find((w) => w.nickname === "doomed");
    expect(dead).toMatchObject({ status: "error", currentTask: null });
    const lease = await gw.farm.work.lease(doomed.tasks[0]?.task.uuid as string);
    expect(lease?.state).toBe("released");
    expect(await gw.redis.hget(gw.farm.keys.failureCounts(job.id), dead?.id as string)).toBeNull();
  });

  it("brings a timed-out worker back through the handshake when it returns", async () => {
    const gw = await gateway("fw-return", { WORKER_TIMEOUT: "300ms", SWEEP_INTERVAL: "100ms" });
    const w = await new WorkerClient(gw.url).awake();
    await waitFor(async () => (await gw.farm.workers.get(w.id)).status === "error");
    const back = await w.task();
    expect(back.status).toBe(423);
    expect(back.body).toEqual({ status_requested: "awake" });
    expect((await w.stateChanged("awake")).status).toBe(204);
    expect((await w.task()).status).toBe(204);
  });

  it("fails softly a task not updated within the task timeout; its late update gets 409", async () => {
    const gw = await gateway("fw-ttl", { TASK_TIMEOUT: "400ms", SWEEP_INTERVAL: "100ms", WORKER_TIMEOUT: "1m" });
    const job = await gw.farm.jobs.submit(exampleJob(gw.storageRoot, { frames: "1-2", chunk_size: 2 }));
    const slow = await new WorkerClient(gw.url).awake();
    const t = (await slow.task()).body as { uuid: string };
    expect((await slow.update(t.uuid, { taskStatus: "active" })).status).toBe(204);
    // The worker stays in touch but never updates its task.
    const other = await new WorkerClient(gw.url).awake();
    const taken = await waitFor(
      async () => {
        await slow.call("GET", "/api/worker/state");
        const a = await other.task();
        return a.status === 200 ? (a.body as { uuid: string; name: string }) : null;
      },
      20_000,
      100,
    );
    expect(taken.name).toBe("render-1,2");
    // A soft failure: the slow worker is on the frames' failure lists, nothing failed for good.
    expect((await gw.redis.smembers(gw.farm.keys.sessionFailedFrames(job.id, slow.id))).sort()).toEqual(["0", "1"]);
    expect((await gw.farm.jobs.get(job.id)).failedFrames).toBe(0);
    expect((await slow.update(t.uuid, { log: "still rendering\n" })).status).toBe(409);
    expect((await slow.update(t.uuid, { taskStatus: "completed" })).status).toBe(409);
    expect((await other.update(taken.uuid, { taskStatus: "completed" })).status).toBe(204);
    expect((await gw.farm.jobs.get(job.id)).completedFrames).toBe(2);
  });

  it("blocklists a worker that keeps failing; the others finish its frames", async () => {
    const gw = await gateway("fw-block", { BLOCKLIST_THRESHOLD: "3", TASK_FAIL_WORKERS: "3", JOB_FAIL_PERCENT: "100" });
    const job = await gw.farm.jobs.submit(
      exampleJob(gw.storageRoot, { frames: "1-12", chunk_size: 2, format: "OPEN_EXR", output_file_extension: ".exr" }),
    );
    const broken = sim(gw.url, { nickname: "broken", failTask: () => true });
    await broken.start();
    await waitFor(async () => broken.tasks.length >= 3 && broken.answers.at(-1)?.endsWith("/api/worker/task 204"));
    expect(broken.tasks.map((t) => t.outcome)).toEqual(["failed", "failed", "failed"]);
    const brokenId = broken.credentials?.id as string;
    expect(await gw.redis.sismember(gw.farm.keys.blocklist(job.id), brokenId)).toBe(1);

    const good = sim(gw.url, { nickname: "good" });
    await good.start();
    await waitFor(async () => (await gw.farm.jobs.get(job.id)).status === "completed", 20_000);
    const failedByBroken = broken.tasks.flatMap((t) => {
      const args = (t.task.commands[0]?.parameters as { args: string[] } | undefined)?.args ?? [];
      return parseRenderFrames(args[args.indexOf("--render-frame") + 1] as string);
    });
    expect(failedByBroken.length).toBeGreaterThan(0);
    const doneByGood = good.tasks.flatMap((t) => t.frames);
    for (const f of failedByBroken) expect(doneByGood).toContain(f);
    // The failures are in the task logs.
    const log = await gw.farm.workers.taskLog(broken.tasks[2]?.task.uuid as string);
    expect(log).toContain("Error: simulated failure");
    expect(log).toMatch(/Task failed by worker broken .*soft failure.*now blocklisted/);
  });

  it("sleeps and wakes on request, lazily after its task, and signs off when asked to go offline", async () => {
    const gw = await gateway("fw-states");
    const job = await gw.farm.jobs.submit(
      exampleJob(gw.storageRoot, { frames: "1-40", chunk_size: 1, format: "OPEN_EXR", output_file_extension: ".exr" }),
    );
    const w = sim(gw.url, { nickname: "obedient", renderDelayMs: 20 });
    await w.start();
    await waitFor(async () => w.tasks.length > 0);
    const id = w.credentials?.id as string;
    await gw.farm.workers.requestStatus(id, "asleep", true);
    await waitFor(async () => (await gw.farm.workers.get(id)).status === "asleep");
    // It finished the task it had before going to sleep.
    expect(w.tasks.every((t) => t.outcome === "completed")).toBe(true);
    const doneAsleep = (await gw.farm.jobs.get(job.id)).completedFrames;
    expect(w.status).toBe("asleep");
    await gw.farm.workers.requestStatus(id, "awake", false);
    await waitFor(async () => (await gw.farm.jobs.get(job.id)).completedFrames > doneAsleep);
    await gw.farm.workers.requestStatus(id, "offline", false);
    await w.finished();
    expect(w.status).toBe("offline");
    expect((await gw.farm.workers.get(id)).status).toBe("offline");
    expect(await gw.farm.work.held(id)).toEqual([]);
    expect(w.states).toEqual(["starting", "awake", "asleep", "awake", "offline"]);
  });

  it("keeps its credentials across restarts and registers only once", async () => {
    const gw = await gateway("fw-restart");
    const first = sim(gw.url, { nickname: "phoenix" });
    await first.start();
    await first.stop();
    const again = sim(gw.url, { nickname: "phoenix", credentials: first.credentials });
    await again.start();
    expect(again.credentials?.id).toBe(first.credentials?.id);
    expect(again.answers.some((a) => a.includes("register-worker"))).toBe(false);
    expect((await gw.farm.workers.list()).filter((w) => w.nickname === "phoenix")).toHaveLength(1);
  });
});

describe("two gateway processes on one Redis", () => {
  it("run the workers' sweep in one process at a time", async () => {
    const a = createTestFarm("fw-lock", { WORKER_TIMEOUT: "100ms", SWEEP_INTERVAL: "2s" });
    const b = a.twin();
    try {
      const w = await a.farm.workers.register({
        secret: "s",
        nickname: "n",
        platform: "linux",
        taskTypes: [],
        address: "10.0.0.7",
      });
      await new Promise((r) => setTimeout(r, 150));
      // Concurrent sweeps: exactly one runs and times the worker out; within the interval no
      // process sweeps again.
      const first = await Promise.all([a.farm.workers.sweep(), b.farm.workers.sweep()]);
      expect(first.filter((r) => r === null)).toHaveLength(1);
      expect(first).toContain(1);
      expect(await Promise.all([a.farm.workers.sweep(), b.farm.workers.sweep()])).toEqual([null, null]);
      expect((await b.farm.workers.get(w.id)).status).toBe("error");
    } finally {
      await b.close();
      await a.close();
    }
  });

  it("share the work; a worker dying on one gives its frames back once, the other finishes them", async () => {
    const a = await gateway("fw-twin", { WORKER_TIMEOUT: "500ms", SWEEP_INTERVAL: "100ms" });
    const b = await a.twinGateway();
    open.push(b);
    const job = await a.farm.jobs.submit(exampleJob(a.storageRoot, { frames: "1-24", chunk_size: 3 }));
    const doomed = sim(b.url, { nickname: "doomed-on-b", crashMidTask: (t) => t.name === "render-1-3" });
    await doomed.start();
    await waitFor(async () => doomed.tasks.some((t) => t.outcome === "crashed"));
    const workers = [
      sim(a.url, { nickname: "on-a", renderDelayMs: 5 }),
      sim(b.url, { nickname: "on-b", renderDelayMs: 5 }),
      sim(a.url, { nickname: "on-a-2", renderDelayMs: 5 }),
    ];
    await Promise.all(workers.map((w) => w.start()));
    await waitFor(async () => (await b.farm.jobs.get(job.id)).status === "completed", 30_000);

    const renders = workers
      .flatMap((w) => w.tasks)
      .filter((t) => t.task.task_type === "blender" && t.outcome === "completed");
    const frames = renders.flatMap((t) => t.frames).sort((x, y) => x - y);
    expect(frames).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    const crashed = doomed.tasks.find((t) => t.outcome === "crashed");
    expect((await a.farm.work.lease(crashed?.task.uuid as string))?.state).toBe("released");
    const done = await a.farm.jobs.get(job.id);
    expect(done).toMatchObject({ completedFrames: 24, failedFrames: 0, status: "completed" });
  });
});
