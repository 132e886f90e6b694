import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FlamencoV3WorkerSim } from "./simulators/flamenco-v3-worker.js";
import type { SimTask } from "./simulators/flamenco-worker.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { expectMatchesV3 } from "./support/openapi-v3.js";

/**
 * Flamenco 3's management endpoints against a real gateway, answers checked against
 * flamenco-openapi-v3.yaml: one worker, its status and sleep schedule; one job type; a job's
 * blocklist; one task's status. Every bad input answers `Error` JSON (400, 404, 422).
 */

let gw: TestGateway;
const UNKNOWN = "6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab";

beforeAll(async () => {
  // One failure in a job blocklists a worker here, so the blocklist is quick to fill.
  gw = await startTestGateway("flamenco-v3-mgt", { BLOCKLIST_THRESHOLD: "1" });
});
afterAll(async () => {
  await gw?.close();
});
beforeEach(async () => {
  for (const job of await gw.farm.jobs.list({ statuses: ["queued", "active", "requeued", "paused"] })) {
    await gw.farm.jobs.setStatus(job.id, "cancel-requested");
  }
});

async function json(method: string, route: string, body?: unknown, raw?: string) {
  const res = await fetch(gw.url + route, {
    method,
    headers: body !== undefined || raw !== undefined ? { "content-type": "application/json" } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
}

/** Expects `Error` JSON with `status`. */
async function expectError(status: number, method: string, route: string, body?: unknown, raw?: string) {
  const a = await json(method, route, body, raw);
  expect(a.status, `${method} ${route}: ${a.text}`).toBe(status);
  expectMatchesV3("Error", a.body);
  expect(a.body.code).toBe(status);
  return a;
}

async function submit(frames: string, chunk = 2) {
  const storage = gw.farm.config.storageRoot;
  const types = await json("GET", "/api/v3/jobs/types");
  const type = (types.body.job_types as Array<{ name: string; etag: string }>)[0] as { etag: string };
  const root = path.join(storage, "frames");
  const answer = await json("POST", "/api/v3/jobs", {
    name: `mgt-${frames}`,
    type: "simple-blender-render",
    type_etag: type.etag,
    submitter_platform: "linux",
    settings: {
      frames,
      chunk_size: chunk,
      render_output_root: root,
      add_path_components: 0,
      render_output_path: path.join(root, "mgt", "{timestamp}", "######"),
      blendfile: path.join(storage, "jobs", "mgt.blend"),
      images_or_video: "images",
      format: "PNG",
      image_file_extension: ".png",
    },
  });
  expect(answer.status, answer.text).toBe(200);
  return String(answer.body.id);
}

async function worker() {
  const w = new FlamencoV3WorkerSim(gw.url);
  await w.start();
  return w;
}

/** Takes a task without running it. */
async function takeTask(w: FlamencoV3WorkerSim): Promise<SimTask> {
  const got = await w.call("POST", "/api/v3/worker/task");
  expect(got.status, got.text).toBe(200);
  return got.body as SimTask;
}

describe("one worker", () => {
  it("GET worker-mgt/workers/{id} answers the v3 Worker, with its current task", async () => {
    const w = await worker();
    const idle = await json("GET", `/api/v3/worker-mgt/workers/${w.id}`);
    expect(idle.status).toBe(200);
    expectMatchesV3("Worker", idle.body);
    expect(idle.body).toMatchObject({ id: w.id, name: w.name, status: "awake", platform: "linux" });
    expect(idle.body.task).toBeUndefined();
    const jobId = await submit("1-2");
    const task = await takeTask(w);
    const busy = await json("GET", `/api/v3/worker-mgt/workers/${w.id}`);
    expectMatchesV3("Worker", busy.body);
    expect(busy.body.task).toMatchObject({ id: task.uuid, job_id: jobId, status: "active", task_type: "blender" });
    await expectError(404, "GET", `/api/v3/worker-mgt/workers/${UNKNOWN}`);
    await expectError(400, "GET", "/api/v3/worker-mgt/workers/not-a-uuid");
  });

  it("setstatus asks the worker to change status, as the 2022 route does", async () => {
    const w = await worker();
    const asked = await json("POST", `/api/v3/worker-mgt/workers/${w.id}/setstatus`, {
      status: "asleep",
      is_lazy: false,
    });
    expect(asked.status, asked.text).toBe(204);
    const state = await w.call("GET", "/api/v3/worker/state");
    expect(state.body).toEqual({ status_requested: "asleep" });
    const list = await json("GET", "/api/v3/worker-mgt/workers");
    expectMatchesV3("WorkerList", list.body);
    const me = (list.body.workers as Array<{ id: string; status_change?: unknown }>).find((x) => x.id === w.id);
    expect(me?.status_change).toEqual({ status: "asleep", is_lazy: false });
    const route = `/api/v3/worker-mgt/workers/${w.id}/setstatus`;
    await expectError(400, "POST", route, { status: "error", is_lazy: false });
    await expectError(400, "POST", route, undefined, "{nope");
    await expectError(400, "POST", route, { is_lazy: true });
    await expectError(404, "POST", `/api/v3/worker-mgt/workers/${UNKNOWN}/setstatus`, {
      status: "awake",
      is_lazy: true,
    });
  });
});

describe("sleep schedules", () => {
  it("stores the schedule; a worker asking for work inside its window is told to sleep", async () => {
    const w = await worker();
    await submit("1-2");
    const route = `/api/v3/worker-mgt/workers/${w.id}/sleep-schedule`;
    expect((await json("GET", route)).status).toBe(204);
    const allDay = { is_active: true, days_of_week: "", start_time: "00:00", end_time: "24:00" };
    const set = await json("POST", route, allDay);
    expect(set.status, set.text).toBe(204);
    const got = await json("GET", route);
    expect(got.status).toBe(200);
    expectMatchesV3("WorkerSleepSchedule", got.body);
    expect(got.body).toEqual(allDay);
    const task = await w.call("POST", "/api/v3/worker/task");
    expect(task.status).toBe(423);
    expect(task.body).toEqual({ status_requested: "asleep" });
    expect((await w.call("POST", "/api/v3/worker/state-changed", { status: "asleep" })).status).toBe(204);
    // Asleep as scheduled: nothing more is asked of it while the window lasts.
    expect((await w.call("GET", "/api/v3/worker/state")).status).toBe(204);
    // Inactive: the worker stays as it is until an operator wakes it.
    expect((await json("POST", route, { ...allDay, is_active: false })).status).toBe(204);
    expect((await w.call("GET", "/api/v3/worker/state")).status).toBe(204);
    expect((await json("GET", route)).body).toMatchObject({ is_active: false });
  });

  it("applies to a worker that is rendering: its task stops (may-i-run says so)", async () => {
    const w = await worker();
    await submit("1-2");
    const task = await takeTask(w);
    const route = `/api/v3/worker-mgt/workers/${w.id}/sleep-schedule`;
    const set = await json("POST", route, { is_active: true, days_of_week: "", start_time: "", end_time: "" });
    expect(set.status, set.text).toBe(204);
    const may = await w.call("GET", `/api/v3/worker/task/${task.uuid}/may-i-run`);
    expect(may.body).toMatchObject({ mayKeepRunning: false, statusChangeRequested: true });
  });

  it("refuses bad schedules with 400 and unknown workers with 404", async () => {
    const w = await worker();
    const route = `/api/v3/worker-mgt/workers/${w.id}/sleep-schedule`;
    const good = { is_active: true, days_of_week: "mo tu", start_time: "09:00", end_time: "18:00" };
    await expectError(400, "POST", route, { ...good, start_time: "25:00" });
    await expectError(400, "POST", route, { ...good, end_time: "9am" });
    await expectError(400, "POST", route, { ...good, days_of_week: "monday" });
    const { is_active: _a, ...noActive } = good;
    await expectError(400, "POST", route, noActive);
    await expectError(400, "POST", route, undefined, "[1,2");
    expect((await json("GET", route)).status).toBe(204);
    await expectError(404, "GET", `/api/v3/worker-mgt/workers/${UNKNOWN}/sleep-schedule`);
    await expectError(404, "POST", `/api/v3/worker-mgt/workers/${UNKNOWN}/sleep-schedule`, good);
    await expectError(400, "GET", "/api/v3/worker-mgt/workers/x/sleep-schedule");
  });
});

describe("one job type", () => {
  it("answers the AvailableJobType with the etag jobs/types lists; 404 for an unknown type", async () => {
    const types = await json("GET", "/api/v3/jobs/types");
    const listed = (types.body.job_types as Array<{ name: string; etag: string }>).find(
      (t) => t.name === "simple-blender-render",
    );
    const one = await json("GET", "/api/v3/jobs/type/simple-blender-render");
    expect(one.status).toBe(200);
    expectMatchesV3("AvailableJobType", one.body);
    expect(one.body.etag).toBe(listed?.etag);
    await expectError(404, "GET", "/api/v3/jobs/type/no-such-type");
  });
});

describe("a job's blocklist", () => {
  it("lists the worker the failure rules blocked; DELETE takes it off and it gets the job's work again", async () => {
    const jobId = await submit("1-4");
    const w = await worker();
    const first = await takeTask(w);
    const failed = await w.call("POST", `/api/v3/worker/task/${first.uuid}`, { taskStatus: "failed", log: "boom" });
    expect(failed.status, failed.text).toBe(204);
    expect((await w.call("POST", "/api/v3/worker/task")).status).toBe(204);
    const list = await json("GET", `/api/v3/jobs/${jobId}/blocklist`);
    expect(list.status).toBe(200);
    expectMatchesV3("JobBlocklist", list.body);
    expect(list.body).toEqual([{ worker_id: w.id, task_type: "blender", worker_name: w.name }]);
    // Nothing named: nothing removed.
    expect((await json("DELETE", `/api/v3/jobs/${jobId}/blocklist`)).status).toBe(204);
    expect((await json("GET", `/api/v3/jobs/${jobId}/blocklist`)).body).toHaveLength(1);
    const del = await json("DELETE", `/api/v3/jobs/${jobId}/blocklist`, list.body);
    expect(del.status, del.text).toBe(204);
    expect((await json("GET", `/api/v3/jobs/${jobId}/blocklist`)).body).toEqual([]);
    // Back on the job, without the frames it failed itself.
    const next = await takeTask(w);
    expect(next.job).toBe(jobId);
    expect(next.name).toBe("render-3,4");
  });

  it("answers 404 for an unknown job, 400 for a bad body or id", async () => {
    const jobId = await submit("1");
    await expectError(404, "GET", `/api/v3/jobs/${UNKNOWN}/blocklist`);
    await expectError(404, "DELETE", `/api/v3/jobs/${UNKNOWN}/blocklist`, []);
    await expectError(400, "GET", "/api/v3/jobs/nope/blocklist");
    await expectError(400, "DELETE", `/api/v3/jobs/${jobId}/blocklist`, [{ worker_id: "w1", task_type: "blender" }]);
    await expectError(400, "DELETE", `/api/v3/jobs/${jobId}/blocklist`, { worker_id: UNKNOWN });
    await expectError(400, "DELETE", `/api/v3/jobs/${jobId}/blocklist`, undefined, "{");
  });
});

describe("one task's status", () => {
  it("cancel stops an active task (its worker is told to stop) and its frames go back in line", async () => {
    const jobId = await submit("1-2");
    const w = await worker();
    const task = await takeTask(w);
    const set = await json("POST", `/api/v3/tasks/${task.uuid}/setstatus`, { status: "canceled", reason: "stuck" });
    expect(set.status, set.text).toBe(204);
    const may = await w.call("GET", `/api/v3/worker/task/${task.uuid}/may-i-run`);
    expect(may.body).toMatchObject({ mayKeepRunning: false });
    const seen = await json("GET", `/api/v3/tasks/${task.uuid}`);
    expectMatchesV3("Task", seen.body);
    expect(seen.body.status).toBe("canceled");
    const log = await fetch(`${gw.url}/api/v3/tasks/${task.uuid}/logtail`);
    expect(await log.text()).toContain("Task canceled by an operator: stuck");
    const again = await w.runTask();
    expect(again?.task.name).toBe("render-1,2");
    expect((await gw.farm.jobs.get(jobId)).status).toBe("completed");
    // Only an active task can be canceled.
    await expectError(422, "POST", `/api/v3/tasks/${again?.task.uuid}/setstatus`, { status: "canceled", reason: "" });
  });

  it("requeue of a completed task renders its frames again and completes the job again", async () => {
    const jobId = await submit("1-2");
    const w = await worker();
    const done = await w.runTask();
    expect((await gw.farm.jobs.get(jobId)).status).toBe("completed");
    const set = await json("POST", `/api/v3/tasks/${done?.task.uuid}/setstatus`, { status: "queued", reason: "redo" });
    expect(set.status, set.text).toBe(204);
    expect((await json("GET", `/api/v3/jobs/${jobId}`)).body.status).toMatch(/requeueing|active|queued/);
    const redo = await w.runTask();
    expect(redo?.task.name).toBe("render-1,2");
    expect(redo?.task.uuid).not.toBe(done?.task.uuid);
    expect((await gw.farm.jobs.get(jobId)).status).toBe("completed");
    // The old task was taken over by the new one: requeue that one instead.
    await expectError(422, "POST", `/api/v3/tasks/${done?.task.uuid}/setstatus`, { status: "queued", reason: "" });
  });

  it("answers 400 for bad input, 404 for an unknown task, 422 for a status a task cannot be set to", async () => {
    await submit("1-2");
    const w = await worker();
    const task = await takeTask(w);
    const route = `/api/v3/tasks/${task.uuid}/setstatus`;
    await expectError(422, "POST", route, { status: "paused", reason: "" });
    await expectError(422, "POST", route, { status: "completed", reason: "" });
    await expectError(400, "POST", route, { status: "exploded", reason: "" });
    await expectError(400, "POST", route, { status: "queued" });
    await expectError(400, "POST", route, undefined, "nope");
    await expectError(404, "POST", `/api/v3/tasks/${UNKNOWN}/setstatus`, { status: "queued", reason: "" });
    await expectError(400, "POST", "/api/v3/tasks/123/setstatus", { status: "queued", reason: "" });
  });
});
