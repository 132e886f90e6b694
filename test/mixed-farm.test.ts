import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { frameOutputPath } from "../src/domain/jobs/output-path.js";
import { testExr, testPng } from "./simulators/fake-renderer.js";
import { FlamencoWorkerSim, type FlamencoWorkerSimOptions } from "./simulators/flamenco-worker.js";
import type { SheepItClient } from "./simulators/sheepit-client.js";
import { waitFor } from "./support/farm.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

/**
 * The point of the product: SheepIt clients and Flamenco workers render the same job side by side,
 * through one or two gateway processes on one Redis.
 */

const open: SheepitGateway[] = [];
const sims: FlamencoWorkerSim[] = [];

async function gateway(label: string, env: Record<string, string> = {}): Promise<SheepitGateway> {
  const gw = await startSheepitGateway(label, env);
  open.push(gw);
  return gw;
}

function worker(url: string, opts: Partial<FlamencoWorkerSimOptions> = {}): FlamencoWorkerSim {
  const s = new FlamencoWorkerSim({ url, pollMinMs: 20, pollMaxMs: 150, asleepPollMs: 50, retryMs: 50, ...opts });
  sims.push(s);
  return s;
}

afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop().catch(() => undefined);
  for (const gw of open.splice(0).reverse()) await gw.close();
});

/** Submits the 48-frame, chunk-4 PNG job through the API, as a submitter would. */
async function submit48(gw: SheepitGateway, name: string) {
  const job = await gw.post(name, { frames: "1-48", chunk_size: 4, format: "PNG", output_file_extension: ".png" });
  const renderOutput = String(job.settings.render_output);
  return { ...job, renderOutput, dir: path.join(gw.storageRoot, "renders", name) };
}

const completed = (gw: SheepitGateway, id: string) => async () => (await gw.farm.jobs.get(id)).status === "completed";

/** Frames each kind of client delivered: SheepIt uploads accepted, Flamenco chunks completed. */
function delivered(clients: SheepItClient[], workers: FlamencoWorkerSim[]) {
  const sheepit = clients.flatMap((c) => c.uploads.filter((u) => u.status === 0).map((u) => Number(u.frame)));
  const flamenco = workers.flatMap((w) =>
    w.tasks.filter((t) => t.task.task_type === "blender" && t.outcome === "completed").flatMap((t) => t.frames),
  );
  return { sheepit, flamenco, all: [...sheepit, ...flamenco].sort((a, b) => a - b) };
}

function expectFramesOnDisk(dir: string, renderOutput: string) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".png"));
  const expected = Array.from({ length: 48 }, (_, i) => path.basename(frameOutputPath(renderOutput, i + 1, ".png")));
  expect(files.sort()).toEqual(expected.sort());
  for (const f of files) expect(fs.readFileSync(path.join(dir, f)).subarray(1, 4).toString()).toBe("PNG");
}

describe("one farm, two protocols", () => {
  it("3 SheepIt clients and 2 Flamenco workers render one 48-frame job side by side; the video comes last", async () => {
    const gw = await gateway("mixed");
    const job = await submit48(gw, "mixed48");
    const clients = ["sa", "sb", "sc"].map((n) => gw.client(n));
    for (const c of clients) expect(await c.login()).toBe(0);
    const workers = [
      worker(gw.url, { nickname: "fl-blender", taskTypes: ["blender"], renderDelayMs: 10 }),
      worker(gw.url, { nickname: "fl-ffmpeg", taskTypes: ["blender", "ffmpeg"], renderDelayMs: 10 }),
    ];
    await Promise.all(workers.map((w) => w.start()));
    const done = completed(gw, job.id);
    await Promise.all(clients.map((c) => c.run({ maxRequests: 200, idleMs: 30, done })));
    await waitFor(done, 60_000);

    const { sheepit, flamenco, all } = delivered(clients, workers);
    // Both kinds rendered, and every frame was rendered exactly once (no lease ran out).
    expect(sheepit.length).toBeGreaterThan(0);
    expect(flamenco.length).toBeGreaterThan(0);
    expect(all).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    expectFramesOnDisk(job.dir, job.renderOutput);

    // The video task ran on the ffmpeg-capable worker, after the last frame, and its file exists.
    const videos = workers.flatMap((w) => w.tasks.filter((t) => t.task.task_type === "ffmpeg").map((t) => ({ w, t })));
    expect(videos).toHaveLength(1);
    expect(videos[0]?.w.nickname).toBe("fl-ffmpeg");
    const video = videos[0]?.t;
    const cmd = video?.task.commands[0]?.parameters as { outputFile: string; inputGlob: string };
    expect(fs.existsSync(cmd.outputFile)).toBe(true);
    expect(path.dirname(cmd.outputFile)).toBe(job.dir);
    const final = await gw.farm.jobs.get(job.id);
    expect(final).toMatchObject({ completedFrames: 48, failedFrames: 0, videoState: "completed" });
    // SheepIt users were credited for their frames; the tasks list names who rendered what.
    const tasks = (await (await fetch(`${gw.url}/api/jobs/${job.id}/tasks?limit=1000`)).json()) as {
      tasks: Array<{ status: string; worker?: { protocol: string } }>;
    };
    const protocols = new Set(tasks.tasks.filter((t) => t.status === "completed").map((t) => t.worker?.protocol));
    expect(protocols).toEqual(new Set(["sheepit", "flamenco"]));
  });

  it("finishes with SheepIt clients alone: the video waits, visibly, for a capable worker", async () => {
    const gw = await gateway("mixed-sheepit");
    const job = await submit48(gw, "sheepit48");
    const png = await testPng();
    const clients = ["s1", "s2", "s3"].map((n) => gw.client(n, { instantImage: png }));
    for (const c of clients) expect(await c.login()).toBe(0);
    const framesDone = async () => (await gw.farm.jobs.get(job.id)).completedFrames === 48;
    await Promise.all(clients.map((c) => c.run({ maxRequests: 200, idleMs: 30, done: framesDone })));
    await waitFor(framesDone, 60_000);
    expectFramesOnDisk(job.dir, job.renderOutput);
    const waiting = (await (await fetch(`${gw.url}/api/jobs/${job.id}`)).json()) as { status: string };
    expect(waiting.status).toBe("active");
    expect((await gw.farm.jobs.get(job.id)).videoState).toBe("queued");
    // A SheepIt client gets nothing more; an ffmpeg-capable worker then finishes the job.
    expect((await clients[0]?.requestJob())?.status).toBe(200);
    const w = worker(gw.url, { nickname: "late-ffmpeg", taskTypes: ["ffmpeg"] });
    await w.start();
    await waitFor(completed(gw, job.id), 30_000);
    expect(w.tasks.map((t) => t.task.name)).toEqual(["frames-to-video"]);
  });

  it("finishes with Flamenco workers alone", async () => {
    const gw = await gateway("mixed-flamenco");
    const job = await submit48(gw, "flamenco48");
    const workers = [
      worker(gw.url, { nickname: "f1", taskTypes: ["blender", "ffmpeg"] }),
      worker(gw.url, { nickname: "f2", taskTypes: ["blender"] }),
    ];
    await Promise.all(workers.map((w) => w.start()));
    await waitFor(completed(gw, job.id), 60_000);
    expect(delivered([], workers).all).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    expectFramesOnDisk(job.dir, job.renderOutput);
  });

  it("runs mixed through two gateway processes on one Redis: no frame held twice, nothing lost", async () => {
    const a = await gateway("mixed-two");
    const b = (await a.twinGateway()) as unknown as SheepitGateway;
    const job = await submit48(a, "two48");
    // Clients spread over both gateways.
    const png = await testPng();
    const clients = [
      a.client("ta", { instantImage: png }),
      a.client("tb", { instantImage: png, url: b.url }),
      a.client("tc", { instantImage: png }),
    ];
    for (const c of clients) expect(await c.login()).toBe(0);
    const workers = [
      worker(a.url, { nickname: "wa", taskTypes: ["blender"] }),
      worker(b.url, { nickname: "wb", taskTypes: ["blender", "ffmpeg"] }),
    ];
    await Promise.all(workers.map((w) => w.start()));
    const done = completed(a, job.id);
    await Promise.all(clients.map((c) => c.run({ maxRequests: 200, idleMs: 30, done })));
    await waitFor(done, 60_000);
    const { sheepit, flamenco, all } = delivered(clients, workers);
    expect(all).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    expect(sheepit.length + flamenco.length).toBe(48);
    expectFramesOnDisk(job.dir, job.renderOutput);
    const seenFromB = (await (await fetch(`${b.url}/api/jobs/${job.id}`)).json()) as { status: string };
    expect(seenFromB.status).toBe("completed");
    await b.close();
  });

  it("renders a frame twice only when a lease ran out: killed clients of both kinds", async () => {
    // Short leases so the lost frames come back quickly; the survivors render instantly, so their
    // own leases never run out and nothing else is rendered twice.
    const gw = await gateway("mixed-kill", {
      SHEEPIT_LEASE: "1500ms",
      TASK_TIMEOUT: "1500ms",
      SWEEP_INTERVAL: "150ms",
    });
    const job = await gw.post("kill8", { frames: "1-8", chunk_size: 2 });
    // A SheepIt client takes a frame and vanishes.
    const doomed = gw.client("doomed", { instantImage: testExr() });
    expect(await doomed.login()).toBe(0);
    const taken = await doomed.requestJob();
    expect(taken.status).toBe(0);
    const lostFrame = Number(taken.job?.frame);
    // A Flamenco worker dies in the middle of its first chunk.
    const dying = worker(gw.url, { nickname: "dying", taskTypes: ["blender"], crashMidTask: true, renderDelayMs: 5 });
    await dying.start();
    await waitFor(async () => dying.tasks.length > 0 && !dying.running, 10_000);
    const lostChunk = dying.tasks[0]?.frames ?? [];
    expect(lostChunk.length).toBeGreaterThan(0);

    // The others finish everything, the lost frames included, once the leases ran out.
    const survivor = gw.client("survivor", { instantImage: testExr() });
    expect(await survivor.login()).toBe(0);
    const helper = worker(gw.url, { nickname: "helper", taskTypes: ["blender"], renderDelayMs: 0 });
    await helper.start();
    const done = completed(gw, job.id);
    await survivor.run({ maxRequests: 400, idleMs: 50, done });
    await waitFor(done, 30_000);
    const { all } = delivered([survivor], [helper]);
    expect(all).toEqual(Array.from({ length: 8 }, (_, i) => i + 1));
    expect(all).toContain(lostFrame);
    for (const f of lostChunk) expect(all).toContain(f);
    // The vanished SheepIt client comes back late with its frame: it is not counted twice.
    const late = await doomed.render(taken.job as NonNullable<typeof taken.job>);
    const lateStatus = await doomed.upload(late);
    expect(lateStatus).toBe(0);
    const final = await gw.farm.jobs.get(job.id);
    expect(final).toMatchObject({ status: "completed", completedFrames: 8, failedFrames: 0 });
  });
});
