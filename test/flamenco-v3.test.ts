import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FlamencoV3WorkerSim } from "./simulators/flamenco-v3-worker.js";
import { FlamencoWorkerSim, TINY_PNG } from "./simulators/flamenco-worker.js";
import { waitFor } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { expectMatchesV3 } from "./support/openapi-v3.js";

/**
 * Flamenco 3 (`/api/v3`) against a real gateway, every JSON answer checked against
 * flamenco-openapi-v3.yaml: the add-on's submission (version → configuration → job types → job
 * with type_etag), the 3.x worker cycle beside a 2022 worker on one job, may-i-run, previews and
 * last-rendered, the queries.
 */

let gw: TestGateway;
const sims: FlamencoWorkerSim[] = [];

beforeAll(async () => {
  gw = await startTestGateway("flamenco-v3", { OUTPUT_PRODUCED_MAX: "2KB", OUTPUT_PRODUCED_INTERVAL: "1h" });
});
afterAll(async () => {
  for (const s of sims) await s.stop();
  await gw?.close();
});
beforeEach(async () => {
  for (const job of await gw.farm.jobs.list({ statuses: ["queued", "active", "requeued", "paused"] })) {
    await gw.farm.jobs.setStatus(job.id, "cancel-requested");
  }
});

async function json(method: string, route: string, body?: unknown) {
  const res = await fetch(gw.url + route, {
    method,
    headers: body !== undefined ? { "content-type": "application/json" } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

interface JobType {
  name: string;
  etag: string;
  settings: Array<{ key: string }>;
}

/** What the 3.x add-on does: version, configuration, job types, then the job with the type's etag. */
async function addOnSubmit(frames: string, extra: Record<string, unknown> = {}) {
  const version = await json("GET", "/api/v3/version");
  expect(version.status).toBe(200);
  expectMatchesV3("FlamencoVersion", version.body);
  const config = await json("GET", "/api/v3/configuration");
  expect(config.status).toBe(200);
  expectMatchesV3("ManagerConfiguration", config.body);
  const storage = String(config.body.storageLocation);
  expect(config.body.shamanEnabled).toBe(false);
  const types = await json("GET", "/api/v3/jobs/types");
  expectMatchesV3("AvailableJobTypes", types.body);
  const type = (types.body.job_types as JobType[]).find((t) => t.name === "simple-blender-render") as JobType;
  const root = path.join(storage, "frames");
  const job = {
    name: "shot-010",
    type: type.name,
    type_etag: type.etag,
    priority: 50,
    submitter_platform: "linux",
    settings: {
      frames,
      chunk_size: 2,
      render_output_root: root,
      add_path_components: 0,
      render_output_path: path.join(root, "shot-010", "{timestamp}", "######"),
      blender_cmd: "{blender}",
      blendfile: path.join(storage, "jobs", "shot-010.blend"),
      images_or_video: "images",
      format: "PNG",
      image_file_extension: ".png",
      ...extra,
    },
    metadata: { project: "Sprite Fright" },
  };
  return { answer: await json("POST", "/api/v3/jobs", job), job, type };
}

describe("the 3.x add-on's submission", () => {
  it("submits with the type's etag; {timestamp} becomes the creation time; the job matches the v3 Job", async () => {
    const { answer, type } = await addOnSubmit("1-4");
    expect(answer.status, answer.text).toBe(200);
    expectMatchesV3("Job", answer.body);
    expect(type.settings.map((s) => s.key)).toEqual(
      expect.arrayContaining(["blendfile", "render_output_root", "render_output_path", "image_file_extension"]),
    );
    const settings = answer.body.settings as Record<string, string>;
    expect(settings.render_output_path).toMatch(/shot-010\/\d{4}-\d\d-\d\d_\d{6}\/######$/);
    expect(answer.body.submitter_platform).toBe("linux");
    const domain = await gw.farm.jobs.get(String(answer.body.id));
    // The farm renders into the intermediate folder beside the final one (moved there at the end).
    const finalDir = path.dirname(settings.render_output_path as string);
    expect(domain.settings.render_output).toBe(
      path.join(`${finalDir}__intermediate-${path.basename(finalDir)}`, "######"),
    );
    expect(domain.settings.filepath).toMatch(/shot-010\.blend$/);
  });

  it("refuses a stale type_etag with 412, a missing submitter_platform with 400", async () => {
    const types = await json("GET", "/api/v3/jobs/types");
    const etag = (types.body.job_types as JobType[])[0]?.etag;
    expect(etag).toMatch(/^[0-9a-f]{40}$/);
    const again = await json("GET", "/api/v3/jobs/types");
    expect((again.body.job_types as JobType[])[0]?.etag).toBe(etag);
    const { job } = await addOnSubmit("1");
    const stale = await json("POST", "/api/v3/jobs", { ...job, type_etag: "0".repeat(40) });
    expect(stale.status, stale.text).toBe(412);
    expectMatchesV3("Error", stale.body);
    const { submitter_platform: _p, ...noPlatform } = job;
    const bad = await json("POST", "/api/v3/jobs", noPlatform);
    expect(bad.status).toBe(400);
    expect(String(bad.body.message)).toContain("submitter_platform");
    // The domain's own rules apply unchanged: a blend file outside STORAGE_ROOT is refused.
    const outside = await json("POST", "/api/v3/jobs", {
      ...job,
      settings: { ...job.settings, blendfile: "/etc/x.blend" },
    });
    expect(outside.status).toBe(400);
  });
});

describe("a 3.x worker beside a 2022 worker", () => {
  it("renders one job to completed together; previews become the job's last-rendered image", async () => {
    const { answer } = await addOnSubmit("1-12");
    const jobId = String(answer.body.id);
    const v3 = new FlamencoV3WorkerSim(gw.url);
    await v3.start();
    const old = new FlamencoWorkerSim({ url: gw.url, pollMinMs: 20, pollMaxMs: 100, retryMs: 50, renderDelayMs: 30 });
    sims.push(old);
    await old.start();
    await waitFor(async () => {
      await v3.runTask();
      return (await gw.farm.jobs.get(jobId)).status === "completed";
    }, 30_000);
    await old.stop();
    const mine = v3.tasks.filter((t) => t.task.job === jobId);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine[0]?.task.commands[0]?.name).toBe("blender-render");
    expectMatchesV3("AssignedTask", mine[0]?.task);
    expect(old.tasks.filter((t) => t.task.job === jobId).length).toBeGreaterThan(0);
    // The first preview was taken (202); later ones within OUTPUT_PRODUCED_INTERVAL are 429.
    const previews = mine.flatMap((t) => t.previews);
    expect(previews[0]).toBe(202);
    expect(previews.slice(1).every((s) => s === 429)).toBe(true);
    const info = await json("GET", `/api/v3/jobs/${jobId}/last-rendered`);
    expect(info.status).toBe(200);
    // `base` is host-relative (the schema's description); its `format: url` wants a host.
    expectMatchesV3("JobLastRenderedImageInfo", { ...info.body, base: `https://farm.example${info.body.base}` });
    const image = await fetch(`${gw.url}${info.body.base}/${(info.body.suffixes as string[])[0]}`);
    expect(image.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await image.arrayBuffer()).equals(TINY_PNG)).toBe(true);
    const latest = await json("GET", "/api/v3/jobs/last-rendered");
    expect(latest.body.base).toBe(info.body.base);
    expect(fs.existsSync(path.join(gw.farm.config.dataDir, "last-rendered", `${jobId}.png`))).toBe(true);
    // Both workers are on the v3 worker list.
    const workers = await json("GET", "/api/v3/worker-mgt/workers");
    expectMatchesV3("WorkerList", workers.body);
    const ids = (workers.body.workers as Array<{ id: string }>).map((w) => w.id);
    expect(ids).toEqual(expect.arrayContaining([v3.id, old.credentials?.id]));
  });
});

describe("may-i-run", () => {
  it("turns false as soon as the job is canceled", async () => {
    const { answer } = await addOnSubmit("1-4");
    const jobId = String(answer.body.id);
    const v3 = new FlamencoV3WorkerSim(gw.url);
    await v3.start();
    v3.beforeFrame = async (task, frame) => {
      const may = await v3.call("GET", `/api/v3/worker/task/${task.uuid}/may-i-run`);
      expectMatchesV3("MayKeepRunning", may.body);
      if (frame === 2) {
        expect((may.body as { mayKeepRunning: boolean }).mayKeepRunning).toBe(true);
        await json("POST", `/api/v3/jobs/${jobId}/setstatus`, { status: "cancel-requested", reason: "test" });
      }
    };
    const rec = await v3.runTask();
    expect(rec?.outcome).toBe("aborted");
    expect(rec?.frames).toEqual([1]);
    expect(rec?.reason).toMatch(/cancel|task is/);
  });

  it("says statusChangeRequested when the worker is asked to sleep; an unknown task is 'Task not found'", async () => {
    await addOnSubmit("1-4");
    const v3 = new FlamencoV3WorkerSim(gw.url);
    await v3.start();
    v3.beforeFrame = async () => {
      await gw.farm.workers.requestStatus(v3.id, "asleep", false);
    };
    const rec = await v3.runTask();
    expect(rec?.outcome).toBe("aborted");
    const may = await v3.call("GET", `/api/v3/worker/task/${rec?.task.uuid}/may-i-run`);
    expect(may.body).toEqual({
      mayKeepRunning: false,
      reason: "worker is asked to go asleep",
      statusChangeRequested: true,
    });
    const state = await v3.call("GET", "/api/v3/worker/state");
    expect(state.body).toEqual({ status_requested: "asleep" });
    const unknown = await v3.call("GET", "/api/v3/worker/task/6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab/may-i-run");
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ mayKeepRunning: false, reason: "Task not found", statusChangeRequested: false });
  });

  it("answers 403 SecurityError without or with wrong credentials", async () => {
    const none = await json("GET", "/api/v3/worker/task/6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab/may-i-run");
    expect(none.status).toBe(403);
    expectMatchesV3("SecurityError", none.body);
    const wrong = await fetch(`${gw.url}/api/v3/worker/state`, {
      headers: {
        authorization: `Basic ${Buffer.from("6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab:nope").toString("base64")}`,
      },
    });
    expect(wrong.status).toBe(403);
    expectMatchesV3("SecurityError", await wrong.json());
  });
});

describe("output-produced", () => {
  it("answers 415 for other types, 413 past the cap, 411 without Content-Length", async () => {
    await addOnSubmit("1-2");
    const v3 = new FlamencoV3WorkerSim(gw.url);
    await v3.start();
    let taskId = "";
    v3.beforeFrame = async (task) => {
      taskId = task.uuid;
      v3.beforeFrame = undefined;
      const route = `/api/v3/worker/task/${taskId}/output-produced`;
      const text = await v3.call("POST", route, new TextEncoder().encode("hello"), { "content-type": "text/plain" });
      expect(text.status).toBe(415);
      const big = await v3.call("POST", route, new Uint8Array(4096), { "content-type": "image/png" });
      expect(big.status).toBe(413);
      const fake = await v3.call("POST", route, new TextEncoder().encode("not a png"), { "content-type": "image/png" });
      expect(fake.status).toBe(415);
      const auth = `Basic ${Buffer.from(`${v3.id}:${v3.secret}`).toString("base64")}`;
      const chunked = await fetch(gw.url + route, {
        method: "POST",
        headers: { authorization: auth, "content-type": "image/png" },
        body: new ReadableStream({
          start(c) {
            c.enqueue(TINY_PNG);
            c.close();
          },
        }),
        duplex: "half",
      } as RequestInit);
      expect(chunked.status).toBe(411);
      expectMatchesV3("Error", await chunked.json());
    };
    const rec = await v3.runTask();
    expect(rec?.outcome).toBe("completed");
    expect(rec?.previews[0]).toBe(202);
  });
});

describe("queries", () => {
  it("query, job, tasks, task, log and logtail answer the v3 shapes", async () => {
    const { answer } = await addOnSubmit("1-2");
    const jobId = String(answer.body.id);
    const v3 = new FlamencoV3WorkerSim(gw.url);
    await v3.start();
    const rec = await v3.runTask();
    const taskId = String(rec?.task.uuid);
    const q = await json("POST", "/api/v3/jobs/query", {
      status_in: ["active", "completed", "queued"],
      limit: 5,
      order_by: ["-created"],
    });
    expect(q.status, q.text).toBe(200);
    expectMatchesV3("JobsQueryResult", q.body);
    expect((q.body.jobs as Array<{ id: string }>)[0]?.id).toBe(jobId);
    const job = await json("GET", `/api/v3/jobs/${jobId}`);
    expectMatchesV3("Job", job.body);
    const tasks = await json("GET", `/api/v3/jobs/${jobId}/tasks`);
    // The spec's JobTasksSummary requires `jobs` where it means `tasks` (a typo of 3.0-beta1):
    // each task is checked against TaskSummary instead.
    for (const t of tasks.body.tasks as unknown[]) expectMatchesV3("TaskSummary", t);
    expect((tasks.body.tasks as unknown[]).length).toBe(1);
    const task = await json("GET", `/api/v3/tasks/${taskId}`);
    expectMatchesV3("Task", task.body);
    expect((task.body.worker as { id: string }).id).toBe(v3.id);
    const log = await json("GET", `/api/v3/tasks/${taskId}/log`);
    expectMatchesV3("TaskLogInfo", log.body);
    const tail = await fetch(`${gw.url}/api/v3/tasks/${taskId}/logtail`);
    expect(await tail.text()).toContain("task done");
    const bad = await json("POST", "/api/v3/jobs/query", { order_by: ["secret"] });
    expect(bad.status).toBe(400);
  });
});

describe("the video of a 3.x job", () => {
  it("is a preview-video task: frames-to-video {exe, fps, inputGlob, outputFile, argsBefore, args} in the intermediate folder", async () => {
    const { answer } = await addOnSubmit("1-3", { fps: 24 });
    const jobId = String(answer.body.id);
    const v3 = new FlamencoV3WorkerSim(gw.url);
    await v3.start();
    await waitFor(async () => {
      await v3.runTask();
      return (await gw.farm.jobs.get(jobId)).status === "completed";
    }, 30_000);
    const video = v3.tasks.find((t) => t.task.job === jobId && t.task.commands[0]?.name === "frames-to-video");
    expect(video?.task.task_type).toBe("ffmpeg");
    expect(video?.task.name).toBe("preview-video");
    expectMatchesV3("AssignedTask", video?.task);
    const p = video?.task.commands[0]?.parameters ?? {};
    expect(Object.keys(p).sort()).toEqual(["args", "argsBefore", "exe", "fps", "inputGlob", "outputFile"]);
    expect(p.fps).toBe(24);
    const stamp = String.raw`\d{4}-\d\d-\d\d_\d{6}`;
    expect(String(p.inputGlob)).toMatch(new RegExp(String.raw`shot-010/(${stamp})__intermediate-\1/\*\.png$`));
    // Completed only once the intermediate folder, video included, is the final folder.
    const final = path.dirname(String((await gw.farm.jobs.get(jobId)).settings.render_output_path));
    expect(fs.readdirSync(final).sort()).toEqual(["000001.png", "000002.png", "000003.png", "shot-010-1-3.mp4"]);
    expect(fs.existsSync(path.dirname(String(p.inputGlob)))).toBe(false);
  });
});
