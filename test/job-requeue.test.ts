import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliContext, parseArgs } from "../src/cli/command.js";
import { jobGroup } from "../src/cli/job.js";
import { exampleJob } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { http, WorkerClient } from "./support/worker-http.js";

/**
 * Requeue brings back exactly what is not done (issue 15, issue 9.2): a failed video goes back
 * with its failure list and the blocklist cleared, completed frames stay completed; failed frames
 * go back and the workers that failed them get them again. Counts are checked through the API and
 * the CLI at each step. GATEWAY_FFMPEG is off (the test farm's default): only workers make videos.
 */
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway("requeue", { TASK_FAIL_WORKERS: "3", BLOCKLIST_THRESHOLD: "3" });
});
afterAll(async () => {
  await gw.close();
});

let out: string[] = [];
const cli = async (cmd: string, ...argv: string[]) => {
  out = [];
  const ctx: CliContext = { farm: async () => gw.farm, out: (l) => out.push(l) };
  const command = jobGroup.commands[cmd];
  if (!command) throw new Error(`no command ${cmd}`);
  expect(await command.run(ctx, parseArgs(argv, ["json"]))).toBe(0);
  return out.join("\n");
};

// biome-ignore lint/suspicious/noExplicitAny: JSON answers read field by field
async function api(method: string, route: string, json?: unknown): Promise<{ status: number; body: any }> {
  return http(gw.url, method, `/api${route}`, json === undefined ? {} : { json });
}

interface Assigned {
  uuid: string;
  name: string;
  task_type: string;
  commands: Array<{ name: string; parameters: Record<string, unknown> }>;
}

async function takeTask(w: WorkerClient): Promise<Assigned | null> {
  const a = await w.task();
  if (a.status === 204) return null;
  expect(a.status).toBe(200);
  return a.body as Assigned;
}

/** Counts as each view shows them: the API's task summary, `job show` and the job status. */
async function counts(jobId: string) {
  const tasks = await api("GET", `/jobs/${jobId}/tasks`);
  const job = await api("GET", `/jobs/${jobId}`);
  const shown = JSON.parse(await cli("show", jobId)) as { completedFrames: number; failedFrames: number };
  expect(tasks.body.frames.completed).toBe(shown.completedFrames);
  expect(tasks.body.frames.failed).toBe(shown.failedFrames);
  // The job is the only one of its gateway here, so the farm's frame gauges are its counts.
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  const gauge = (state: string) =>
    Number(new RegExp(`bellwether_frames\\{state="${state}"\\} (\\d+)`).exec(metrics)?.[1]);
  expect({ completed: gauge("completed"), failed: gauge("failed") }).toEqual({
    completed: shown.completedFrames,
    failed: shown.failedFrames,
  });
  return { status: job.body.status as string, completed: shown.completedFrames, failed: shown.failedFrames };
}

describe("requeue", () => {
  it("brings back a job whose video failed for good: it completes with its video, no frame rendered twice", async () => {
    const sub = await api(
      "POST",
      "/jobs",
      exampleJob(
        gw.storageRoot,
        { frames: "1-6", chunk_size: 6, fps: 24, render_output: path.join(gw.storageRoot, "rq/######") },
        990,
      ),
    );
    expect(sub.status).toBe(200);
    const jobId = sub.body.id as string;
    const w = await new WorkerClient(gw.url, "ffmpeg-box", "linux", ["blender", "ffmpeg"]).awake();

    const render = await takeTask(w);
    expect(render?.task_type).toBe("blender");
    expect((await w.update(render?.uuid as string, { taskStatus: "completed" })).status).toBe(204);
    expect(await counts(jobId)).toEqual({ status: "active", completed: 6, failed: 0 });

    // The one ffmpeg worker fails the video three times (TASK_FAIL_WORKERS): the job fails.
    for (let k = 0; k < 3; k++) {
      const video = await takeTask(w);
      expect(video?.name).toBe("frames-to-video");
      expect((await w.update(video?.uuid as string, { taskStatus: "failed", activity: "ffmpeg broke" })).status).toBe(
        204,
      );
    }
    expect(await counts(jobId)).toEqual({ status: "failed", completed: 6, failed: 1 });
    // Blocklisted after three failures: nothing for it now.
    expect(await takeTask(w)).toBeNull();

    // Requeued through the API: the video goes back in line, the frames stay completed.
    expect((await api("POST", `/jobs/${jobId}/setstatus`, { status: "requeued" })).status).toBe(204);
    expect(await counts(jobId)).toEqual({ status: "requeued", completed: 6, failed: 0 });
    expect(await cli("list")).toMatch(new RegExp(`${jobId}.*requeued.*6/6`));

    // The same worker (its blocklist entry and failure list cleared) gets the video, not a frame.
    const again = await takeTask(w);
    expect(again?.name).toBe("frames-to-video");
    expect(await counts(jobId)).toEqual({ status: "active", completed: 6, failed: 0 });
    expect((await w.update(again?.uuid as string, { taskStatus: "completed" })).status).toBe(204);
    expect(await counts(jobId)).toEqual({ status: "completed", completed: 6, failed: 0 });
    expect(await takeTask(w)).toBeNull();

    // Every task the job had: one render of the six frames, four video attempts.
    const tasks = (await api("GET", `/jobs/${jobId}/tasks`)).body.tasks as Array<{ name: string; status: string }>;
    expect(tasks.filter((t) => t.name.startsWith("render"))).toEqual([
      expect.objectContaining({ name: "render-1-6", status: "completed" }),
    ]);
    expect((await gw.farm.jobs.get(jobId)).videoState).toBe("completed");
  });

  it("gives the frames of a job that failed on every worker back to those same workers (CLI requeue)", async () => {
    // Here a job fails only when all its frames did, and two failures blocklist a worker.
    const main = gw;
    gw = await startTestGateway("requeue-frames", {
      TASK_FAIL_WORKERS: "3",
      BLOCKLIST_THRESHOLD: "2",
      JOB_FAIL_PERCENT: "100",
    });
    try {
      await framesFailedEverywhere();
    } finally {
      await gw.close();
      gw = main;
    }
  });

  it("lists each piece of work once: a retried chunk shows its outcome and attempts, no stale queued entry", async () => {
    const job = await gw.farm.jobs.submit(
      exampleJob(gw.storageRoot, { frames: "1-6", chunk_size: 3, fps: undefined }, 999),
    );
    const [w1, w2, w3] = await Promise.all(
      ["retry-a", "retry-b", "retry-c"].map((n) => new WorkerClient(gw.url, n, "linux", ["blender"]).awake()),
    );
    // render-1-3 fails softly on w1 and is completed by w2 on its second attempt.
    const first = await takeTask(w1 as WorkerClient);
    expect(first?.name).toBe("render-1-3");
    expect((await w1?.update(first?.uuid as string, { taskStatus: "failed" }))?.status).toBe(204);
    const retry = await takeTask(w2 as WorkerClient);
    expect(retry?.name).toBe("render-1-3");
    expect((await w2?.update(retry?.uuid as string, { taskStatus: "completed" }))?.status).toBe(204);
    // render-4-6 is given back by w3 signing off, then taken by w1 and kept active.
    const given = await takeTask(w3 as WorkerClient);
    expect(given?.name).toBe("render-4-6");
    expect((await w3?.call("POST", "/api/worker/sign-off"))?.status).toBe(204);
    const again = await takeTask(w1 as WorkerClient);
    expect(again?.name).toBe("render-4-6");

    const tasks = (await api("GET", `/jobs/${job.id}/tasks`)).body.tasks as Array<Record<string, unknown>>;
    expect(tasks.map((t) => `${t.name}:${t.status}:${t.attempt}`)).toEqual([
      "render-4-6:active:2",
      "render-1-3:completed:2",
    ]);
    expect(tasks.map((t) => t.id)).toEqual([again?.uuid, retry?.uuid]);
  });
});

async function framesFailedEverywhere() {
  {
    const job = await gw.farm.jobs.submit(
      exampleJob(gw.storageRoot, { frames: "1-2", chunk_size: 1, fps: undefined }, 995),
    );
    const ws = await Promise.all(
      ["fail-a", "fail-b", "fail-c"].map((n) => new WorkerClient(gw.url, n, "linux", ["blender"]).awake()),
    );
    // Each of the three workers fails each frame: both frames fail for good, the job fails.
    for (let round = 0; round < 2; round++) {
      for (const w of ws) {
        const t = await takeTask(w);
        expect(t?.task_type).toBe("blender");
        expect((await w.update(t?.uuid as string, { taskStatus: "failed" })).status).toBe(204);
      }
    }
    expect(await counts(job.id)).toEqual({ status: "failed", completed: 0, failed: 2 });
    for (const w of ws) expect(await takeTask(w)).toBeNull();
    // Each worker failed twice in the job: all three are blocklisted.
    expect((await gw.redis.smembers(gw.farm.keys.blocklist(job.id))).sort()).toEqual(ws.map((w) => w.id).sort());

    await cli("requeue", job.id);
    expect(await counts(job.id)).toEqual({ status: "requeued", completed: 0, failed: 0 });
    // The very workers that failed before get the frames again and finish the job.
    const a = await takeTask(ws[0] as WorkerClient);
    const b = await takeTask(ws[1] as WorkerClient);
    expect([a?.name, b?.name].sort()).toEqual(["render-1", "render-2"]);
    for (const [w, t] of [
      [ws[0], a],
      [ws[1], b],
    ] as const) {
      expect((await (w as WorkerClient).update(t?.uuid as string, { taskStatus: "completed" })).status).toBe(204);
    }
    expect(await counts(job.id)).toEqual({ status: "completed", completed: 2, failed: 0 });
  }
}
