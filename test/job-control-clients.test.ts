import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testExr } from "./simulators/fake-renderer.js";
import type { JobOffer, SheepItClient } from "./simulators/sheepit-client.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";
import { WorkerClient } from "./support/worker-http.js";

/**
 * Job control as clients of both kinds see it: a SheepIt client learns through keepmealive and
 * request_job, a Flamenco worker through task updates and POST /task.
 */

let gw: SheepitGateway;
let sheep: SheepItClient;
let flam: WorkerClient;
const exr = testExr();

beforeAll(async () => {
  gw = await startSheepitGateway("ctl-clients");
  sheep = gw.client("ctl-box", { instantImage: exr });
  expect(await sheep.login()).toBe(0);
  flam = await new WorkerClient(gw.url, "ctl-worker", "linux", ["blender"]).awake();
});
afterAll(async () => {
  await gw.close();
});

function submit(name: string, priority = 50) {
  return gw.post(name, { frames: "1-8", chunk_size: 2 }, priority);
}

async function setStatus(id: string, status: string) {
  const res = await fetch(`${gw.url}/api/jobs/${id}/setstatus`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ status, reason: "test" }),
  });
  return res.status;
}

/** Both clients take work: a SheepIt frame and a Flamenco chunk. */
async function takeWork() {
  const s = await sheep.requestJob();
  expect(s.status).toBe(0);
  const f = await flam.task();
  expect(f.status).toBe(200);
  return { offer: s.job as JobOffer, task: f.body as { uuid: string; job: string } };
}

describe("job control seen by both kinds of client", () => {
  it("cancel: keepmealive answers 400, task updates 409, late results are not counted", async () => {
    const job = await submit("ctl-cancel");
    const { offer, task } = await takeWork();
    expect(task.job).toBe(job.id);
    expect(await sheep.keepAlive(offer)).toBe(0);
    expect((await flam.update(task.uuid, { taskStatus: "active", activity: "rendering" })).status).toBe(204);

    expect(await setStatus(job.id, "cancel-requested")).toBe(204);
    expect(await sheep.keepAlive(offer)).toBe(400);
    expect((await flam.update(task.uuid, { taskStatus: "active" })).status).toBe(409);
    expect((await flam.update(task.uuid, { taskStatus: "completed" })).status).toBe(409);
    const late = await sheep.render(offer);
    await sheep.upload(late);
    const after = await gw.farm.jobs.get(job.id);
    expect(after).toMatchObject({ status: "canceled", completedFrames: 0 });
    // Nothing of it is handed out any more.
    expect((await sheep.requestJob()).status).toBe(200);
    expect((await flam.task()).status).toBe(204);
  });

  it("pause: no new work for either kind, held work finishes and counts; resume continues", async () => {
    const job = await submit("ctl-pause");
    const { offer, task } = await takeWork();
    expect(await setStatus(job.id, "paused")).toBe(204);
    expect((await sheep.requestJob()).status).toBe(200);
    expect((await flam.task()).status).toBe(200); // it still holds its task: it gets that one again
    // Held work finishes.
    expect(await sheep.keepAlive(offer)).toBe(0);
    expect(await sheep.upload(await sheep.render(offer))).toBe(0);
    expect((await flam.update(task.uuid, { taskStatus: "completed" })).status).toBe(204);
    expect((await flam.task()).status).toBe(204);
    const paused = await gw.farm.jobs.get(job.id);
    expect(paused).toMatchObject({ status: "paused", completedFrames: 3 });
    // Resume: the remaining frames go out, starting where it stopped.
    expect(await setStatus(job.id, "queued")).toBe(204);
    const next = await flam.task();
    expect(next.status).toBe(200);
    const frames = (next.body as { commands: Array<{ parameters: { args: string[] } }> }).commands[0]?.parameters.args;
    expect(frames?.[frames.length - 1]).toBe("4,5");
    const rest = await sheep.requestJob();
    expect(rest.status).toBe(0);
    expect(rest.job?.frame).toBe("0006");
    await setStatus(job.id, "cancel-requested");
  });

  it("priority: a job raised above another is served first to both kinds", async () => {
    const low = await submit("ctl-low", 10);
    const high = await submit("ctl-high", 20);
    const raised = await fetch(`${gw.url}/api/jobs/${low.id}/setpriority`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ priority: 99 }),
    });
    expect(raised.status).toBe(204);
    const { offer, task } = await takeWork();
    expect(offer.id).toBe(String((await gw.farm.jobs.get(low.id)).sheepitId));
    expect(task.job).toBe(low.id);
    for (const id of [low.id, high.id]) await setStatus(id, "cancel-requested");
  });

  it("requeue after cancel: both kinds get the job's frames again", async () => {
    const job = await submit("ctl-requeue", 200);
    await takeWork();
    expect(await setStatus(job.id, "cancel-requested")).toBe(204);
    expect(await setStatus(job.id, "requeued")).toBe(204);
    const { offer, task } = await takeWork();
    expect(task.job).toBe(job.id);
    expect(offer.id).toBe(String((await gw.farm.jobs.get(job.id)).sheepitId));
    await setStatus(job.id, "cancel-requested");
  });

  it("delete: held work is stopped (400 / 409), the job is gone", async () => {
    const job = await submit("ctl-delete", 300);
    const { offer, task } = await takeWork();
    const res = await fetch(`${gw.url}/api/jobs/${job.id}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await sheep.keepAlive(offer)).toBe(400);
    expect([404, 409]).toContain((await flam.update(task.uuid, { taskStatus: "completed" })).status);
    expect((await sheep.requestJob()).status).toBe(200);
    expect((await flam.task()).status).toBe(204);
  });
});
