import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Capabilities } from "../src/domain/scheduling/capabilities.js";
import { exampleJob } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway("jobctl", { TASK_FAIL_WORKERS: "1", JOB_FAIL_PERCENT: "50" });
});
afterAll(async () => {
  await gw.close();
});

const caps = (sessionId: string): Capabilities => ({ sessionId, taskTypes: ["blender", "ffmpeg"], device: "any" });
const LEASE = 60_000;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${gw.url}/api${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function submit(frames: string, chunk = 1, priority = 50) {
  const res = await api("POST", "/jobs", exampleJob(gw.storageRoot, { frames, chunk_size: chunk }, priority));
  expect(res.status).toBe(200);
  return res.body as { id: string; status: string; updated: string };
}

describe("job control over the API", () => {
  it("lists jobs, filtered by status", async () => {
    const a = await submit("1-2");
    const b = await submit("1-2");
    await api("POST", `/jobs/${b.id}/setstatus`, { status: "paused", reason: "later" });
    const all = await api("GET", "/jobs");
    expect(all.body.jobs.map((j: { id: string }) => j.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    const paused = await api("GET", "/jobs?status=paused");
    expect(paused.body.jobs.map((j: { id: string }) => j.id)).toEqual([b.id]);
    expect((await api("GET", "/jobs?status=nonsense")).status).toBe(400);
  });

  it("cancels: frames are taken back, late results do not count, the job is canceled", async () => {
    const job = await submit("1-4", 2, 800);
    const held = await gw.farm.work.claim({ caps: caps("w-cancel"), maxFrames: "job-chunk", leaseMs: LEASE });
    expect(held?.job.id).toBe(job.id);
    const res = await api("POST", `/jobs/${job.id}/setstatus`, { status: "cancel-requested", reason: "wrong camera" });
    expect(res.status).toBe(204);
    const after = await api("GET", `/jobs/${job.id}`);
    expect(after.body.status).toBe("canceled");
    expect(after.body.updated > job.updated).toBe(true);
    // The holder learns it no longer holds the frames; its late completion is refused.
    await expect(gw.farm.work.extend(held?.lease.id as string, "w-cancel", LEASE)).rejects.toMatchObject({
      kind: "not-yours",
    });
    await expect(gw.farm.work.complete(held?.lease.id as string, "w-cancel")).rejects.toMatchObject({
      kind: "not-yours",
    });
    expect((await gw.farm.jobs.get(job.id)).completedFrames).toBe(0);
    // Nothing of it is handed out any more.
    const other = await gw.farm.work.claim({ caps: caps("w-other"), maxFrames: 10, leaseMs: LEASE });
    expect(other?.job.id).not.toBe(job.id);
    if (other) await gw.farm.work.releaseAll("w-other");
    // A canceled job cannot be paused (422), but it can be requeued.
    expect((await api("POST", `/jobs/${job.id}/setstatus`, { status: "paused" })).status).toBe(422);
  });

  it("pauses: no new frames, held frames finish; resuming continues where it stopped", async () => {
    const job = await submit("1-3", 1, 900);
    const first = await gw.farm.work.claim({ caps: caps("w-p1"), maxFrames: 1, leaseMs: LEASE });
    expect(first?.lease.frames).toEqual([1]);
    expect((await api("POST", `/jobs/${job.id}/setstatus`, { status: "paused" })).status).toBe(204);
    const during = await gw.farm.work.claim({ caps: caps("w-p2"), maxFrames: 1, leaseMs: LEASE });
    expect(during?.job.id).not.toBe(job.id);
    if (during) await gw.farm.work.releaseAll("w-p2");
    // The held frame finishes and is kept.
    await gw.farm.work.complete(first?.lease.id as string, "w-p1");
    expect((await gw.farm.jobs.get(job.id)).status).toBe("paused");
    expect((await gw.farm.jobs.get(job.id)).completedFrames).toBe(1);
    expect((await api("POST", `/jobs/${job.id}/setstatus`, { status: "queued" })).status).toBe(204);
    const next = await gw.farm.work.claim({ caps: caps("w-p3"), maxFrames: 1, leaseMs: LEASE });
    expect(next?.lease.frames).toEqual([2]);
  });

  it("requeues failed frames of a failed job, and all frames of a completed one", async () => {
    const job = await submit("1-2", 1, 950);
    const a = await gw.farm.work.claim({ caps: caps("w-r1"), maxFrames: 1, leaseMs: LEASE });
    await gw.farm.work.fail(a?.lease.id as string, "w-r1", "crash");
    // TASK_FAIL_WORKERS=1 and JOB_FAIL_PERCENT=50: one failed frame of two fails the job.
    expect((await gw.farm.jobs.get(job.id)).status).toBe("failed");
    expect((await api("POST", `/jobs/${job.id}/setstatus`, { status: "requeued" })).status).toBe(204);
    const requeued = await gw.farm.jobs.get(job.id);
    expect(requeued.status).toBe("requeued");
    expect(requeued.failedFrames).toBe(0);
    const again = await gw.farm.work.claim({ caps: caps("w-r2"), maxFrames: 2, leaseMs: LEASE });
    expect(again?.lease.frames).toEqual([1, 2]);
    // Frame 1 is on its second attempt.
    expect(again?.lease.attempt).toBe(2);
    expect((await gw.farm.jobs.get(job.id)).status).toBe("active");
    await gw.farm.work.complete(again?.lease.id as string, "w-r2");
    const video = await gw.farm.work.claim({ caps: caps("w-r2"), maxFrames: 1, leaseMs: LEASE });
    expect(video?.lease.phase).toBe("video");
    await gw.farm.work.complete(video?.lease.id as string, "w-r2");
    expect((await gw.farm.jobs.get(job.id)).status).toBe("completed");
    // Completed → requeued: every frame again, and the video after them.
    expect((await api("POST", `/jobs/${job.id}/setstatus`, { status: "requeued" })).status).toBe(204);
    const round2 = await gw.farm.jobs.get(job.id);
    expect(round2.completedFrames).toBe(0);
    expect(round2.videoState).toBe("");
    const all = await gw.farm.work.claim({ caps: caps("w-r3"), maxFrames: 2, leaseMs: LEASE });
    expect(all?.lease.frames).toEqual([1, 2]);
    expect(all?.lease.attempt).toBe(3);
    await gw.farm.work.releaseAll("w-r3");
  });

  it("changes priority and answers 422/400/404 where it must", async () => {
    const low = await submit("1", 1, 1);
    const high = await submit("1", 1, 2);
    expect((await api("POST", `/jobs/${low.id}/setpriority`, { priority: 999_999 })).status).toBe(204);
    const got = await gw.farm.work.claim({ caps: caps("w-prio"), maxFrames: 1, leaseMs: LEASE });
    expect(got?.job.id).toBe(low.id);
    await gw.farm.work.releaseAll("w-prio");
    expect((await api("POST", `/jobs/${high.id}/setpriority`, { priority: "high" })).status).toBe(400);
    expect((await api("POST", `/jobs/${high.id}/setstatus`, { status: "completed" })).status).toBe(422);
    expect((await api("POST", `/jobs/${high.id}/setstatus`, { status: "bogus" })).status).toBe(400);
    expect((await api("POST", `/jobs/${high.id}/setstatus`, "{nope")).status).toBe(400);
    expect(
      (await api("POST", "/jobs/4b8e0c4e-8a0e-4a8b-9a6a-7d7b0c5f2d11/setstatus", { status: "paused" })).status,
    ).toBe(404);
    const err = await api("POST", `/jobs/${high.id}/setstatus`, { status: "queued" });
    expect(err.status).toBe(422);
    expect(err.body).toMatchObject({ code: 422, message: expect.stringContaining("queued") });
    for (const j of [low, high]) await api("POST", `/jobs/${j.id}/setstatus`, { status: "cancel-requested" });
  });

  it("lists a job's tasks with their state and holder, and shows one task", async () => {
    const job = await submit("1-4", 2, 960);
    await gw.farm.sessions.put({
      id: "w-tasks",
      protocol: "flamenco",
      name: "render-box",
      status: "awake",
      caps: caps("w-tasks"),
      created: new Date().toISOString(),
      lastSeen: Date.now(),
      attrs: {},
    });
    const a = await gw.farm.work.claim({ caps: caps("w-tasks"), maxFrames: "job-chunk", leaseMs: LEASE });
    await gw.farm.work.complete(a?.lease.id as string, "w-tasks");
    const b = await gw.farm.work.claim({ caps: caps("w-tasks"), maxFrames: "job-chunk", leaseMs: LEASE });
    const res = await api("GET", `/jobs/${job.id}/tasks`);
    expect(res.status).toBe(200);
    expect(res.body.frames).toEqual({ total: 4, completed: 2, failed: 0 });
    expect(res.body.tasks).toEqual([
      // The job's video task is listed before any client took it, with what it waits for.
      expect.objectContaining({
        name: "frames-to-video",
        status: "queued",
        task_type: "ffmpeg",
        activity: "video follows once every frame is rendered",
      }),
      expect.objectContaining({ id: b?.lease.id, name: "render-3,4", status: "active", frames: [3, 4] }),
      expect.objectContaining({
        id: a?.lease.id,
        name: "render-1,2",
        attempt: 1,
        status: "completed",
        worker: { id: "w-tasks", name: "render-box", protocol: "flamenco" },
      }),
    ]);
    const one = await api("GET", `/tasks/${b?.lease.id}`);
    expect(one.body).toMatchObject({ id: b?.lease.id, job_id: job.id, status: "active", task_type: "blender" });
    expect((await api("GET", "/tasks/4b8e0c4e-8a0e-4a8b-9a6a-7d7b0c5f2d11")).status).toBe(404);
    expect((await api("GET", "/tasks/zzz")).status).toBe(400);
    await gw.farm.work.releaseAll("w-tasks");
  });

  it("deletes a job: its frames leave the queues, its files stay", async () => {
    const job = await submit("1-3", 1, 970);
    const held = await gw.farm.work.claim({ caps: caps("w-del"), maxFrames: 1, leaseMs: LEASE });
    expect(held?.job.id).toBe(job.id);
    expect((await api("DELETE", `/jobs/${job.id}`)).status).toBe(204);
    expect((await api("GET", `/jobs/${job.id}`)).status).toBe(404);
    expect(await gw.redis.exists(gw.farm.keys.bull(job.id, "prioritized"))).toBe(0);
    expect(await gw.farm.work.held("w-del")).toEqual([]);
    const other = await gw.farm.work.claim({ caps: caps("w-del2"), maxFrames: 1, leaseMs: LEASE });
    expect(other?.job.id).not.toBe(job.id);
    if (other) await gw.farm.work.releaseAll("w-del2");
    expect((await api("DELETE", `/jobs/${job.id}`)).status).toBe(404);
  });
});
