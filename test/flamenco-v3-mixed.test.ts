import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { testPng } from "./simulators/fake-renderer.js";
import { FlamencoV3WorkerSim } from "./simulators/flamenco-v3-worker.js";
import { FlamencoWorkerSim } from "./simulators/flamenco-worker.js";
import { waitFor } from "./support/farm.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

/**
 * A 3.x add-on's job rendered by every kind of client at once: a 3.x worker, a 2022 worker and
 * SheepIt clients all write into the job's intermediate folder; the gateway moves it to the final
 * folder when the last task (the 3.x worker's preview-video) is done, and only then is the job
 * completed.
 */

let gw: SheepitGateway | undefined;
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops) await stop().catch(() => undefined);
  await gw?.close();
});

describe("a 3.x job on a mixed farm", () => {
  it("3.x worker, 2022 worker and SheepIt clients render it together into the intermediate folder; it ends in the final one", async () => {
    gw = await startSheepitGateway("v3-mixed", { GATEWAY_FFMPEG: "false" });
    const g = gw;
    const root = path.join(g.storageRoot, "renders");
    const res = await fetch(`${g.url}/api/v3/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "v3mix",
        type: "simple-blender-render",
        submitter_platform: "linux",
        settings: {
          frames: "1-24",
          chunk_size: 4,
          fps: 24,
          render_output_root: root,
          add_path_components: 0,
          render_output_path: path.join(root, "v3mix", "{timestamp}", "######"),
          blendfile: g.scene("v3mix"),
          images_or_video: "images",
          format: "PNG",
          image_file_extension: ".png",
        },
      }),
    });
    const answer = (await res.json()) as { id: string; settings: Record<string, string> };
    expect(res.status, JSON.stringify(answer)).toBe(200);
    const job = await g.farm.jobs.get(answer.id);
    const final = path.dirname(String(job.settings.render_output_path));
    const intermediate = path.dirname(String(job.settings.render_output));
    const done = async () => (await g.farm.jobs.get(answer.id)).status === "completed";

    const png = await testPng();
    const clients = ["m1", "m2"].map((n) => g.client(n, { instantImage: png }));
    for (const c of clients) expect(await c.login()).toBe(0);
    const old = new FlamencoWorkerSim({
      url: g.url,
      nickname: "old-2022",
      taskTypes: ["blender"],
      pollMinMs: 20,
      pollMaxMs: 100,
      retryMs: 50,
      renderDelayMs: 10,
    });
    stops.push(() => old.stop());
    await old.start();
    const v3 = new FlamencoV3WorkerSim(g.url, { name: "new-3x" });
    await v3.start();
    const v3Loop = async () => {
      while (!(await done())) {
        if (!(await v3.runTask())) await new Promise((r) => setTimeout(r, 20));
      }
    };
    await Promise.all([v3Loop(), ...clients.map((c) => c.run({ maxRequests: 300, idleMs: 30, done }))]);
    await waitFor(done, 60_000);
    await old.stop();

    const sheepit = clients.flatMap((c) => c.uploads.filter((u) => u.status === 0).map((u) => Number(u.frame)));
    const by2022 = old.tasks.filter((t) => t.outcome === "completed").flatMap((t) => t.frames);
    const by3x = v3.tasks
      .filter((t) => t.task.task_type === "blender" && t.outcome === "completed")
      .flatMap((t) => t.frames);
    expect([...sheepit, ...by2022, ...by3x].sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(sheepit.length).toBeGreaterThan(0);
    expect(by2022.length + by3x.length).toBeGreaterThan(0);
    // Only the 3.x worker runs ffmpeg here: it made the preview video, in the intermediate folder.
    const video = v3.tasks.find((t) => t.task.task_type === "ffmpeg");
    expect(video?.task.name).toBe("preview-video");
    expect(path.dirname(String(video?.task.commands[0]?.parameters.outputFile))).toBe(intermediate);
    // Everything is in the final folder now; the intermediate one is gone.
    const files = fs.readdirSync(final).sort();
    expect(files.filter((f) => f.endsWith(".png"))).toHaveLength(24);
    expect(files).toContain("scene-1-24.mp4");
    expect(fs.existsSync(intermediate)).toBe(false);
  });
});
