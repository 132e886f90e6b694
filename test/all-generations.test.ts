import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FlamencoV3WorkerSim } from "./simulators/flamenco-v3-worker.js";
import { FlamencoWorkerSim } from "./simulators/flamenco-worker.js";
import type { SheepItClient } from "./simulators/sheepit-client.js";
import { waitFor } from "./support/farm.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

/**
 * Every generation of client the gateway speaks to, on ONE job: SheepIt clients of 2020
 * (download-archive, uploads in line), 2022 (download-archive, `<cache>`, background uploads) and
 * 2024 (download-binary, download-chunk, no `<cache>`), a 2022 Flamenco worker on `/api` and a
 * Flamenco 3 worker on `/api/v3`. Each first takes one piece of work in turn (so each is seen to
 * render), then all of them render the rest side by side until the job is completed.
 */

describe("all client generations render one job together", () => {
  let gw: SheepitGateway;
  let fl2022: FlamencoWorkerSim | undefined;

  beforeAll(async () => {
    gw = await startSheepitGateway("all-generations", { SHEEPIT_CHUNK_SIZE: "1KB" });
  });
  afterAll(async () => {
    await fl2022?.stop().catch(() => undefined);
    await gw?.close();
  });

  it("2020, 2022 and 2024 SheepIt clients, a 2022 Flamenco worker and a Flamenco 3 worker complete one 40-frame job", async () => {
    const job = await gw.post("generations", { frames: "1-40", chunk_size: 2 });
    const done = async () => (await gw.farm.jobs.get(job.id)).status === "completed";
    const sheepit: Record<string, SheepItClient> = {
      "2020": gw.client("sheep-2020", { dialect: "2020" }),
      "2022": gw.client("sheep-2022", { dialect: "2022" }),
      "2024": gw.client("sheep-2024", { dialect: "2024" }),
    };
    for (const c of Object.values(sheepit)) expect(await c.login()).toBe(0);

    // One frame each for the SheepIt clients, in turn.
    for (const c of Object.values(sheepit)) {
      const r = await c.requestJob();
      expect(r.status).toBe(0);
      const offer = r.job;
      if (!offer) throw new Error(`${c.dialect}: no job offered`);
      expect(await c.upload(await c.render(offer))).toBe(0);
    }
    // One chunk for the Flamenco 3 worker.
    const v3 = new FlamencoV3WorkerSim(gw.url, { name: "v3-worker", taskTypes: ["blender"] });
    await v3.start();
    expect((await v3.runTask())?.outcome).toBe("completed");
    // The 2022 worker works on its own from here on; its first chunk is awaited.
    fl2022 = new FlamencoWorkerSim({
      url: gw.url,
      nickname: "worker-2022",
      taskTypes: ["blender"],
      renderDelayMs: 10,
      pollMinMs: 20,
      pollMaxMs: 100,
      asleepPollMs: 50,
      retryMs: 50,
    });
    await fl2022.start();
    const w = fl2022;
    await waitFor(async () => w.tasks.some((t) => t.outcome === "completed"));

    // Then everyone together until the job is done.
    const v3Loop = async () => {
      while (!(await done())) {
        if (!(await v3.runTask())) await new Promise((r) => setTimeout(r, 30));
      }
    };
    await Promise.all([...Object.values(sheepit).map((c) => c.run({ maxRequests: 200, idleMs: 30, done })), v3Loop()]);
    await waitFor(done, 60_000);

    const final = await gw.farm.jobs.get(job.id);
    expect(final).toMatchObject({ status: "completed", completedFrames: 40, failedFrames: 0 });

    // Who rendered what: every generation did at least one frame, and no frame was done twice.
    const byClient: Record<string, number[]> = {};
    for (const [gen, c] of Object.entries(sheepit)) {
      byClient[`sheepit-${gen}`] = c.uploads.filter((u) => u.status === 0).map((u) => Number(u.frame));
    }
    byClient["flamenco-2022"] = w.tasks.filter((t) => t.outcome === "completed").flatMap((t) => t.frames);
    byClient["flamenco-3"] = v3.tasks.filter((t) => t.outcome === "completed").flatMap((t) => t.frames);
    for (const [who, frames] of Object.entries(byClient)) expect(frames.length, who).toBeGreaterThan(0);
    const all = Object.values(byClient)
      .flat()
      .sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));

    // Each SheepIt generation fetched the project its own way.
    const fetched = (c: SheepItClient) => new Set(c.downloads.map((d) => d.type));
    expect(fetched(sheepit["2020"] as SheepItClient)).toEqual(new Set(["binary", "job"]));
    expect(fetched(sheepit["2022"] as SheepItClient)).toEqual(new Set(["binary", "job"]));
    expect(fetched(sheepit["2024"] as SheepItClient)).toEqual(new Set(["binary", "chunk"]));
    // The task list names both protocols among those who completed tasks.
    const tasks = (await (await fetch(`${gw.url}/api/jobs/${job.id}/tasks?limit=1000`)).json()) as {
      tasks: Array<{ status: string; worker?: { protocol: string } }>;
    };
    const protocols = new Set(tasks.tasks.filter((t) => t.status === "completed").map((t) => t.worker?.protocol));
    expect(protocols).toEqual(new Set(["sheepit", "flamenco"]));
  });
});
