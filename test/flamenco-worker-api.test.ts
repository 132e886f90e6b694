import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { exampleJob } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { expectMatchesSchema } from "./support/openapi.js";
import { type Answer, http, WorkerClient } from "./support/worker-http.js";

/**
 * The worker API over real HTTP, call by call, every answer checked against flamenco-openapi.yaml:
 * registration, auth, the state handshake, tasks and their updates, logs, malformed input, status
 * requests (lazy and immediate), worker management and the registration network limit.
 */

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway("fw-api", { TASK_LOG_MAX: "4KB", ALLOWED_BLENDER_CMDS: "{blender} --debug-cycles" });
});
afterAll(async () => {
  await gw?.close();
});
// Each test starts with no work in line: jobs left by earlier tests are canceled.
beforeEach(async () => {
  for (const job of await gw.farm.jobs.list({ statuses: ["queued", "active", "requeued"] })) {
    await gw.farm.jobs.setStatus(job.id, "cancel-requested");
  }
});

async function submit(overrides: Record<string, unknown> = {}, priority = 50): Promise<string> {
  const a = await http(gw.url, "POST", "/api/jobs", { json: exampleJob(gw.storageRoot, overrides, priority) });
  expect(a.status).toBe(200);
  return (a.body as { id: string }).id;
}

function expectError(a: Answer, status: number) {
  expect(a.status, a.text).toBe(status);
  expectMatchesSchema("Error", a.body);
  expect((a.body as { code: number }).code).toBe(status);
}

function expectNoContent(a: Answer) {
  expect(a.status, a.text).toBe(204);
  expect(a.text).toBe("");
}

interface Task {
  uuid: string;
  job: string;
  name: string;
  task_type: string;
  job_type: string;
  job_priority: number;
  commands: Array<{ name: string; parameters: Record<string, unknown> }>;
}

async function takeTask(w: WorkerClient): Promise<Task> {
  const a = await w.task();
  expect(a.status, a.text).toBe(200);
  expectMatchesSchema("AssignedTask", a.body);
  return a.body as Task;
}

describe("the Flamenco worker API", () => {
  it("runs a worker's whole life: register, sign on, handshake, tasks, updates, log, video, sign off", async () => {
    const jobId = await submit({ frames: "1-4", chunk_size: 2 }, 70);
    const w = new WorkerClient(gw.url, "render-box-1", "linux", ["Blender", " FFMPEG ", "misc"]);

    const reg = await w.register();
    expect(reg.status).toBe(200);
    expectMatchesSchema("RegisteredWorker", reg.body);
    expect(reg.body).toMatchObject({
      nickname: "render-box-1",
      platform: "linux",
      status: "starting",
      address: "127.0.0.1",
      supported_task_types: ["blender", "ffmpeg", "misc"],
    });

    const on = await w.signOn();
    expect(on.status).toBe(200);
    expectMatchesSchema("WorkerStateChange", on.body);
    expect(on.body).toEqual({ status_requested: "awake" });

    // Not awake yet: 409 with an Error.
    expectError(await w.task(), 409);
    expectNoContent(await w.stateChanged("awake"));
    expectNoContent(await w.call("GET", "/api/worker/state"));

    const t1 = await takeTask(w);
    expect(t1).toMatchObject({ job: jobId, name: "render-1,2", status: "active", task_type: "blender" });
    expect(t1).toMatchObject({ job_type: "simple-blender-render", job_priority: 70, priority: 50 });
    expect(t1.commands).toEqual([
      {
        name: "blender-render",
        parameters: {
          exe: "blender",
          argsBefore: ["--factory-startup", "--background"],
          blendfile: path.join(gw.storageRoot, "jobs/scene123.blend"),
          args: [
            "--render-output",
            path.join(gw.storageRoot, "frames/scene123/######"),
            "--render-format",
            "PNG",
            "--render-frame",
            "1,2",
          ],
        },
      },
    ]);
    // Asking again while holding it: the same task.
    expect((await takeTask(w)).uuid).toBe(t1.uuid);

    expectNoContent(await w.update(t1.uuid, { taskStatus: "active", activity: "Started", log: "first line\n" }));
    expectNoContent(await w.update(t1.uuid, { activity: "Rendering frame 1", log: "Fra:1 Saved\n" }));
    // The activity replaces the last one.
    expect(await gw.redis.hget(gw.farm.keys.lease(t1.uuid), "activity")).toBe("Rendering frame 1");
    expectNoContent(await w.update(t1.uuid, { taskStatus: "completed", activity: "done" }));
    // A repeated final update changes nothing; other updates of a finished task get 409.
    expectNoContent(await w.update(t1.uuid, { taskStatus: "completed" }));
    expectError(await w.update(t1.uuid, { activity: "late" }), 409);

    const log = await http(gw.url, "GET", `/api/tasks/${t1.uuid}/log`);
    expect(log.status).toBe(200);
    expect(log.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(log.text).toMatch(/Task assigned to worker render-box-1 \([0-9a-f-]{36}\)\nfirst line\nFra:1 Saved\n$/);

    const t2 = await takeTask(w);
    expect(t2.name).toBe("render-3,4");
    expect(t2.commands[0]?.parameters.args).toContain("3,4");
    expectNoContent(await w.update(t2.uuid, { taskStatus: "completed" }));

    const video = await takeTask(w);
    const dir = path.join(gw.storageRoot, "frames/scene123");
    expect(video).toMatchObject({ name: "frames-to-video", task_type: "ffmpeg", job: jobId });
    expect(video.commands).toEqual([
      {
        name: "frames-to-video",
        parameters: expect.objectContaining({
          exe: "ffmpeg",
          // The input rate goes before -i, or ffmpeg reads the images at 25 frames/s.
          argsBefore: ["-framerate", "24"],
          fps: 24,
          inputGlob: path.join(dir, "*.png"),
          outputFile: path.join(dir, "scene123-1-4.mp4"),
          args: expect.arrayContaining(["-r", "24"]),
        }),
      },
    ]);
    expectNoContent(await w.update(video.uuid, { taskStatus: "completed" }));
    const job = await http(gw.url, "GET", `/api/jobs/${jobId}`);
    expect((job.body as { status: string }).status).toBe("completed");

    expectNoContent(await w.task());
    expectNoContent(await w.call("POST", "/api/worker/sign-off"));
    const list = await http(gw.url, "GET", "/api/worker-mgt/workers");
    const me = (list.body as { workers: Array<{ id: string; status: string }> }).workers.find((x) => x.id === w.id);
    expect(me?.status).toBe("offline");
  });

  it("replaces {blender} and {ffmpeg} per worker platform", async () => {
    await submit({ frames: "7", chunk_size: 5, blender_cmd: "{blender} --debug-cycles" }, 900);
    const win = await new WorkerClient(gw.url, "win-box", "windows", ["blender"]).awake();
    const t = await takeTask(win);
    expect(t.name).toBe("render-7");
    expect(t.commands[0]?.parameters).toMatchObject({
      exe: "blender.exe",
      argsBefore: ["--factory-startup", "--background", "--debug-cycles"],
      args: expect.arrayContaining(["--render-frame", "7"]),
    });
    expectNoContent(await win.update(t.uuid, { taskStatus: "completed" }));
  });

  it("hands echo-sleep-test tasks (type misc) only to workers that run misc tasks", async () => {
    const a = await http(gw.url, "POST", "/api/jobs", {
      json: {
        type: "echo-sleep-test",
        name: "echo",
        priority: 50,
        settings: { message: "hello farm", sleep_duration_seconds: 2 },
      },
    });
    expect(a.status).toBe(200);
    const blenderOnly = await new WorkerClient(gw.url, "b-only", "linux", ["blender"]).awake();
    expectNoContent(await blenderOnly.task());
    const misc = await new WorkerClient(gw.url, "misc", "linux", ["misc"]).awake();
    const t = await takeTask(misc);
    expect(t).toMatchObject({ job: (a.body as { id: string }).id, task_type: "misc", job_type: "echo-sleep-test" });
    expect(t.commands).toEqual([
      { name: "echo", parameters: { message: "hello farm" } },
      { name: "sleep", parameters: { duration_in_seconds: 2 } },
    ]);
    expectNoContent(await misc.update(t.uuid, { taskStatus: "completed" }));
    expect((await gw.farm.jobs.get(t.job)).status).toBe("completed");
  });

  it("answers 401 without credentials and 403 with wrong ones; unknown workers fare the same", async () => {
    const w = await new WorkerClient(gw.url).awake();
    const routes: Array<[string, string]> = [
      ["POST", "/api/worker/sign-on"],
      ["POST", "/api/worker/sign-off"],
      ["GET", "/api/worker/state"],
      ["POST", "/api/worker/state-changed"],
      ["POST", "/api/worker/task"],
      ["POST", `/api/worker/task/${w.id}`],
    ];
    for (const [method, route] of routes) {
      const none = await http(gw.url, method, route);
      expectError(none, 401);
      expect(none.headers.get("www-authenticate")).toMatch(/^Basic /);
      expectError(await http(gw.url, method, route, { auth: "Basic !!!not-base64" }), 401);
      expectError(await http(gw.url, method, route, { auth: "Bearer abc" }), 401);
      for (const auth of [
        { id: w.id, secret: "wrong" },
        { id: "6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab", secret: w.secret },
        { id: "not-a-uuid", secret: "x" },
      ]) {
        const a = await http(gw.url, method, route, { auth });
        expect(a.status).toBe(403);
        expectMatchesSchema("SecurityError", a.body);
      }
    }
    // The right credentials still work, from the cache or not.
    expectNoContent(await w.call("GET", "/api/worker/state"));
  });

  it("rejects malformed input with 400 and an Error, never a 500", async () => {
    const reg = (json: unknown, raw?: string) =>
      http(gw.url, "POST", "/api/worker/register-worker", raw === undefined ? { json } : { raw });
    expectError(await reg({ platform: "linux", supported_task_types: [], nickname: "x" }), 400);
    expectError(await reg({ secret: "", platform: "linux", supported_task_types: [], nickname: "x" }), 400);
    expectError(await reg({ secret: "s", platform: "linux", supported_task_types: "blender", nickname: "x" }), 400);
    expectError(await reg(undefined, "{not json"), 400);
    expectError(await reg(undefined, ""), 400);

    await submit({ frames: "1-2", chunk_size: 1 }, 800);
    const w = await new WorkerClient(gw.url).awake();
    expectError(await w.call("POST", "/api/worker/sign-on", { nickname: "x" }), 400);
    expectError(await w.stateChanged("dancing"), 400);
    expectError(await w.call("POST", "/api/worker/state-changed", {}), 400);
    const t = await takeTask(w);
    expectError(await w.update(t.uuid, { taskStatus: "exploded" }), 400);
    expectError(await w.update(t.uuid, { taskStatus: "soft-failed" }), 400);
    expectError(await w.update(t.uuid, { taskStatus: "queued" }), 400);
    expectError(await w.update(t.uuid, { log: 42 }), 400);
    expectError(await http(gw.url, "POST", `/api/worker/task/${t.uuid}`, { auth: w.auth, raw: "[1," }), 400);
    expectError(await w.update("not-a-uuid", { taskStatus: "active" }), 400);
    expectError(await w.update("6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab", { taskStatus: "active" }), 404);
    expectError(await http(gw.url, "GET", "/api/tasks/not-a-uuid/log"), 400);
    expectError(await http(gw.url, "GET", "/api/tasks/6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab/log"), 404);
    // A body past the cap is refused before it is read.
    expectError(await w.update(t.uuid, { log: "x".repeat(200 * 1024) }), 413);
    // Nothing of that hurt the task: it completes.
    expectNoContent(await w.update(t.uuid, { taskStatus: "completed" }));
  });

  it("answers 409 to a worker updating another worker's task", async () => {
    await submit({ frames: "1", chunk_size: 1 }, 700);
    const owner = await new WorkerClient(gw.url).awake();
    const thief = await new WorkerClient(gw.url).awake();
    const t = await takeTask(owner);
    for (const status of ["active", "completed", "failed"]) {
      expectError(await thief.update(t.uuid, { taskStatus: status, log: "mine now\n" }), 409);
    }
    const log = await http(gw.url, "GET", `/api/tasks/${t.uuid}/log`);
    expect(log.text).not.toContain("mine now");
    expectNoContent(await owner.update(t.uuid, { taskStatus: "completed" }));
  });

  it("gives a signing-off worker's task back at once", async () => {
    const jobId = await submit({ frames: "1-3", chunk_size: 3 });
    const w = await new WorkerClient(gw.url).awake();
    const t = await takeTask(w);
    expectNoContent(await w.update(t.uuid, { taskStatus: "active" }));
    expectNoContent(await w.call("POST", "/api/worker/sign-off"));
    const other = await new WorkerClient(gw.url).awake();
    expect(await takeTask(other)).toMatchObject({ job: jobId, name: "render-1-3" });
    // Nothing was counted against the worker that left.
    expect(await gw.redis.hget(gw.farm.keys.failureCounts(jobId), w.id)).toBeNull();
    expectError(await w.update(t.uuid, { taskStatus: "completed" }), 409);
  });

  it("answers 409 to updates of a task whose job was canceled, so the worker stops", async () => {
    const jobId = await submit({ frames: "1-2", chunk_size: 2 }, 650);
    const w = await new WorkerClient(gw.url).awake();
    const t = await takeTask(w);
    expectNoContent(await w.update(t.uuid, { taskStatus: "active" }));
    await gw.farm.jobs.setStatus(jobId, "cancel-requested");
    expectError(await w.update(t.uuid, { taskStatus: "active" }), 409);
    expectError(await w.update(t.uuid, { taskStatus: "completed" }), 409);
    expect((await gw.farm.jobs.get(jobId)).completedFrames).toBe(0);
  });

  it("ends each log chunk with a line break, so chunks never run together, trimmed or not", async () => {
    await submit({ frames: "1", chunk_size: 1 }, 600);
    const w = await new WorkerClient(gw.url).awake();
    const t = await takeTask(w);
    expectNoContent(await w.update(t.uuid, { log: 'args ["--render-frame", "1..3"]' }));
    expectNoContent(await w.update(t.uuid, { log: "pid=18776\nFra:1 Mem:12M" }));
    expectNoContent(await w.update(t.uuid, { log: "already ends\n" }));
    let log = (await http(gw.url, "GET", `/api/tasks/${t.uuid}/log`)).text;
    expect(log).toMatch(/\nargs \["--render-frame", "1\.\.3"\]\npid=18776\nFra:1 Mem:12M\nalready ends\n$/);
    // Past the cap (4 KiB here), lines without breaks are still whole lines after the trimming.
    for (let i = 0; i < 40; i++) expectNoContent(await w.update(t.uuid, { log: `chunk ${i} ${"-".repeat(200)}` }));
    log = (await http(gw.url, "GET", `/api/tasks/${t.uuid}/log`)).text;
    expect(log).toMatch(/^\[earlier lines of this log were dropped[^\n]*\n/);
    expect(log.endsWith(`chunk 39 ${"-".repeat(200)}\n`)).toBe(true);
    for (const line of log.split("\n").slice(1, -1)) expect(line).toMatch(/^chunk \d+ -{200}$/);
    expectNoContent(await w.update(t.uuid, { taskStatus: "completed" }));
  });

  it("keeps each task's log bounded, dropping the oldest lines", async () => {
    await submit({ frames: "1", chunk_size: 1 }, 600);
    const w = await new WorkerClient(gw.url).awake();
    const t = await takeTask(w);
    for (let i = 0; i < 40; i++) {
      expectNoContent(await w.update(t.uuid, { log: `line ${i} ${"-".repeat(200)}\n` }));
    }
    const log = (await http(gw.url, "GET", `/api/tasks/${t.uuid}/log`)).text;
    expect(Buffer.byteLength(log)).toBeLessThanOrEqual(4096 + 200);
    expect(log).toMatch(/^\[earlier lines of this log were dropped/);
    expect(log).toContain(`line 39 ${"-".repeat(200)}\n`);
    expect(log).not.toContain("line 0 ");
    // Every kept line is whole.
    for (const line of log.split("\n").slice(1, -1)) expect(line).toMatch(/^line \d+ -{200}$/);
    expectNoContent(await w.update(t.uuid, { taskStatus: "completed" }));
  });
});

describe("status requests from operators", () => {
  const setstatus = (id: string, json: unknown) =>
    http(gw.url, "POST", `/api/worker-mgt/workers/${id}/setstatus`, { json });
  const state = (w: WorkerClient) => w.call("GET", "/api/worker/state");

  it("delivers a lazy request after the current task, on /task (423) and /state", async () => {
    await submit({ frames: "1-2", chunk_size: 1 }, 500);
    const w = await new WorkerClient(gw.url).awake();
    const t = await takeTask(w);
    expectNoContent(await setstatus(w.id, { status: "asleep", is_lazy: true }));

    // Still working: the same task, no request yet.
    expect((await takeTask(w)).uuid).toBe(t.uuid);
    expectNoContent(await state(w));
    expectNoContent(await w.update(t.uuid, { taskStatus: "active", log: "going on\n" }));
    const listed = await http(gw.url, "GET", "/api/worker-mgt/workers");
    expect((listed.body as { workers: unknown[] }).workers).toContainEqual(
      expect.objectContaining({
        id: w.id,
        status: "awake",
        status_change: { status: "asleep", is_lazy: true },
        current_task: { id: t.uuid, name: t.name, job: t.job },
      }),
    );
    expectNoContent(await w.update(t.uuid, { taskStatus: "completed" }));

    // Done: the request arrives.
    const locked = await w.task();
    expect(locked.status).toBe(423);
    expectMatchesSchema("WorkerStateChange", locked.body);
    expect(locked.body).toEqual({ status_requested: "asleep" });
    expect((await state(w)).body).toEqual({ status_requested: "asleep" });
    expectNoContent(await w.stateChanged("asleep"));
    expectNoContent(await state(w));
    expectError(await w.task(), 409);

    // Waking it up again goes through /state, as an asleep worker polls it.
    expectNoContent(await setstatus(w.id, { status: "awake", is_lazy: false }));
    const wake = await state(w);
    expect(wake.status).toBe(200);
    expectMatchesSchema("WorkerStateChange", wake.body);
    expect(wake.body).toEqual({ status_requested: "awake" });
    expectNoContent(await w.stateChanged("awake"));
    expectNoContent(await state(w));
    expect((await w.task()).status).toBe(200);
  });

  it("makes an immediate request stop the current task: 409 on its next update, frames back in line", async () => {
    const jobId = await submit({ frames: "1-3", chunk_size: 3 }, 990);
    const w = await new WorkerClient(gw.url).awake();
    const t = await takeTask(w);
    expectNoContent(await setstatus(w.id, { status: "offline" }));
    expectError(await w.update(t.uuid, { taskStatus: "active", activity: "rendering" }), 409);
    const locked = await w.task();
    expect(locked.status).toBe(423);
    expect(locked.body).toEqual({ status_requested: "offline" });
    // Another worker gets the same frames at once.
    const other = await new WorkerClient(gw.url).awake();
    const again = await takeTask(other);
    expect(again).toMatchObject({ job: jobId, name: "render-1-3" });
    expect(again.uuid).not.toBe(t.uuid);
    // Signing off meets the request.
    expectNoContent(await w.call("POST", "/api/worker/sign-off"));
    const summary = (await gw.farm.workers.list()).find((x) => x.id === w.id);
    expect(summary).toMatchObject({ status: "offline", request: null, currentTask: null });
    expectNoContent(await other.update(again.uuid, { taskStatus: "completed" }));
  });

  it("answers sign-on with a pending request", async () => {
    const w = await new WorkerClient(gw.url).awake();
    expectNoContent(await w.call("POST", "/api/worker/sign-off"));
    expectNoContent(await setstatus(w.id, { status: "asleep", is_lazy: false }));
    expect((await w.signOn()).body).toEqual({ status_requested: "asleep" });
    expectNoContent(await w.stateChanged("asleep"));
    // Asking for the status it has withdraws a request.
    expectNoContent(await setstatus(w.id, { status: "awake" }));
    expectNoContent(await setstatus(w.id, { status: "asleep" }));
    expectNoContent(await state(w));
  });

  it("rejects bad requests: 404 unknown worker, 400 bad status or body", async () => {
    const w = await new WorkerClient(gw.url).awake();
    expectError(await setstatus("6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab", { status: "asleep" }), 404);
    expectError(await setstatus("nope", { status: "asleep" }), 400);
    expectError(await setstatus(w.id, { status: "error" }), 400);
    expectError(await setstatus(w.id, { status: "asleep", is_lazy: "yes" }), 400);
    expectError(await setstatus(w.id, {}), 400);
  });
});

describe("registration networks", () => {
  it("refuses registration from outside WORKER_ALLOWED_NETWORKS with 403, accepts from inside", async () => {
    const closed = await startTestGateway("fw-nets", { WORKER_ALLOWED_NETWORKS: "10.0.0.0/8, fd00::/8" });
    const open = await startTestGateway("fw-nets-ok", { WORKER_ALLOWED_NETWORKS: "10.0.0.0/8,127.0.0.0/8,::1/128" });
    try {
      const refused = await new WorkerClient(closed.url).register();
      expect(refused.status).toBe(403);
      expectMatchesSchema("SecurityError", refused.body);
      const accepted = await new WorkerClient(open.url).register();
      expect(accepted.status).toBe(200);
    } finally {
      await closed.close();
      await open.close();
    }
  });
});
