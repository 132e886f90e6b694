import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { frameOutputPath } from "../src/domain/jobs/output-path.js";
import { testPng } from "./simulators/fake-renderer.js";
import type { JobOffer } from "./simulators/sheepit-client.js";
import type { TestGateway } from "./support/gateway.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";
import { type Answer, http, WorkerClient } from "./support/worker-http.js";

/**
 * What a submitted job may make the farm run and write, tried as an attacker would against a real
 * gateway (and its twin on the same Redis): the program, the formats, the frame paths, the folders.
 */

let gw: SheepitGateway;
let twin: TestGateway;
let outside: string;
let n = 0;

beforeAll(async () => {
  gw = await startSheepitGateway("job-safety");
  twin = await gw.twinGateway();
  outside = fs.mkdtempSync(path.join(os.tmpdir(), "bw-outside-"));
});

afterAll(async () => {
  await twin?.close();
  await gw?.close();
  if (outside) fs.rmSync(outside, { recursive: true, force: true });
});

/** A valid job of a project folder of its own, rendering to `renders/<name>/######`. */
function job(settings: Record<string, unknown> = {}, name = `job-${++n}`) {
  return {
    type: "simple-blender-render",
    name,
    priority: 50,
    settings: {
      blender_cmd: "{blender}",
      filepath: gw.scene(name),
      render_output: path.join(gw.storageRoot, "renders", name, "######"),
      frames: "1-2",
      chunk_size: 1,
      images_or_video: "images",
      format: "PNG",
      output_file_extension: ".png",
      ...settings,
    },
    metadata: {},
  };
}

const post = (body: unknown, base = gw.url) => http(base, "POST", "/api/jobs", { json: body });

function refused(a: Answer, status: number, ...names: RegExp[]) {
  expect(a.status, a.text).toBe(status);
  const message = (a.body as { message: string }).message;
  for (const re of names) expect(message).toMatch(re);
  return message;
}

/** Cancels the jobs earlier tests left in line, so the next claim can only be the test's own job. */
async function cancelAll() {
  for (const j of await gw.farm.jobs.list({ statuses: ["queued", "active", "requeued"] })) {
    await gw.farm.jobs.setStatus(j.id, "cancel-requested");
  }
}

const idOf = (a: Answer) => (a.body as { id: string }).id;

describe("what a job may make the farm run", () => {
  it("refuses a blender_cmd that is not {blender}: the issue's /bin/sh reproduction gets a 400 naming blender_cmd", async () => {
    const a = await post(job({ blender_cmd: "/bin/sh -c 'id > /tmp/x' #" }));
    refused(a, 400, /settings\.blender_cmd/, /ALLOWED_BLENDER_CMDS/);
    refused(await post(job({ blender_cmd: "{blender} --python-expr 'import os'" })), 400, /settings\.blender_cmd/);
    // Nothing was stored: no worker can be handed such a command.
    expect((await gw.farm.jobs.list()).some((j) => String(j.settings.blender_cmd).includes("/bin/sh"))).toBe(false);
  });
});

describe("a job stored before these checks", () => {
  it("is not handed out with a command it may not give: it fails with the reason", async () => {
    await cancelAll();
    // Stored by another process (as by an earlier version): this gateway has never seen the job
    // and reads it from Redis (a job's fixed fields never change, so the one that submitted it
    // answers from what it remembers).
    const a = await post(job({}, "old-record"), twin.url);
    expect(a.status, a.text).toBe(200);
    const key = gw.farm.keys.job(idOf(a));
    const settings = JSON.parse(String(await gw.redis.hget(key, "settings")));
    await gw.redis.hset(key, "settings", JSON.stringify({ ...settings, blender_cmd: "/bin/sh -c 'id > /tmp/x' #" }));
    const w = await new WorkerClient(gw.url, "fl-old", "linux", ["blender"]).awake();
    const t = await w.task();
    expect(t.status, t.text).toBe(204);
    const after = await gw.farm.jobs.get(idOf(a));
    expect(after.status).toBe("failed");
    expect(after.reason).toMatch(/blender_cmd/);
  });
});

describe("formats", () => {
  it("refuses a format Blender does not know and a mismatched extension, naming both settings", async () => {
    refused(await post(job({ format: "BOGUS" })), 400, /settings\.format/, /settings\.output_file_extension/);
    refused(
      await post(job({ format: "JPEG", output_file_extension: ".png" })),
      400,
      /settings\.format/,
      /settings\.output_file_extension/,
    );
  });

  it("refuses extensions that are not frames, formats it cannot check and movie formats", async () => {
    for (const ext of [".blend", ".py", ".xyz"]) {
      refused(await post(job({ output_file_extension: ext })), 400, /settings\.output_file_extension/);
    }
    refused(await post(job({ format: "BMP", output_file_extension: ".png" })), 400, /cannot check/, /PNG, JPEG, TIFF/);
    refused(await post(job({ format: "AVIJPEG", output_file_extension: ".png" })), 400, /frames only/);
  });

  it("still takes PNG, JPEG and EXR jobs", async () => {
    for (const [format, ext] of [
      ["PNG", ".png"],
      ["JPEG", ".jpg"],
      ["OPEN_EXR", ".exr"],
      ["EXR", ".exr"],
    ]) {
      const a = await post(job({ format, output_file_extension: ext }));
      expect(a.status, a.text).toBe(200);
    }
  });
});

describe("frame paths", () => {
  it("refuses the issue's .blend reproduction and a job rendering into another unfinished job's frames", async () => {
    const victim = await post(job({}, "victim"));
    expect(victim.status, victim.text).toBe(200);
    const victimOut = path.join(gw.storageRoot, "renders", "victim");
    refused(
      await post(job({ render_output: path.join(victimOut, "shot"), output_file_extension: ".blend", frames: "1" })),
      400,
      /settings\.output_file_extension/,
    );
    // The same frame paths with a frame extension: refused naming the first job, its id and name.
    const m = refused(
      await post(job({ render_output: path.join(victimOut, "######") })),
      409,
      /settings\.render_output/,
    );
    expect(m).toContain(idOf(victim));
    expect(m).toContain('"victim"');
    // A prefix that could give the same file names clashes too; on the other gateway as well.
    refused(await post(job({ render_output: path.join(victimOut, "0###") }), twin.url), 409, /victim/);
  });

  it("takes the frame paths again once the first job is canceled; requeueing that one is then refused", async () => {
    const out = path.join(gw.storageRoot, "renders", "shared", "shot_####");
    const first = await post(job({ render_output: out }, "first"));
    expect(first.status, first.text).toBe(200);
    refused(await post(job({ render_output: out }, "second")), 409, new RegExp(idOf(first)));
    const cancel = await http(gw.url, "POST", `/api/jobs/${idOf(first)}/setstatus`, {
      json: { status: "cancel-requested", reason: "wrong camera" },
    });
    expect(cancel.status, cancel.text).toBe(204);
    const second = await post(job({ render_output: out }, "second"), twin.url);
    expect(second.status, second.text).toBe(200);
    const requeue = await http(gw.url, "POST", `/api/jobs/${idOf(first)}/setstatus`, { json: { status: "requeued" } });
    refused(requeue, 409, new RegExp(idOf(second)));
    // Deleting the second frees the paths: the first may be requeued.
    expect((await http(gw.url, "DELETE", `/api/jobs/${idOf(second)}`)).status).toBe(204);
    const again = await http(gw.url, "POST", `/api/jobs/${idOf(first)}/setstatus`, { json: { status: "requeued" } });
    expect(again.status, again.text).toBe(204);
    await http(gw.url, "POST", `/api/jobs/${idOf(first)}/setstatus`, { json: { status: "cancel-requested" } });
  });

  it("gives the same frame paths to exactly one of two jobs submitted at once on two gateways", async () => {
    const out = path.join(gw.storageRoot, "renders", "race", "######");
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post(job({ render_output: out }, `race-${i}`), i % 2 ? twin.url : gw.url)),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(7);
  });
});

describe("paths", () => {
  it("refuses a blend file directly in STORAGE_ROOT", async () => {
    const blend = path.join(gw.storageRoot, "top.blend");
    fs.writeFileSync(blend, "BLENDER fake");
    refused(await post(job({ filepath: blend })), 400, /settings\.filepath/, /folder below/);
  });

  it("refuses .. with backslashes in render_output and filepath", async () => {
    refused(await post(job({ render_output: "frames\\..\\..\\..\\outside\\x" })), 400, /settings\.render_output/);
    refused(await post(job({ filepath: "projects\\..\\..\\scene.blend" })), 400, /settings\.filepath/);
    refused(await post(job({ render_output: "renders/a/../../../x" })), 400, /settings\.render_output/);
  });

  it("hands no Flamenco worker a path a symbolic link planted after submission sends outside; the job fails", async () => {
    await cancelAll();
    const a = await post(job({}, "planted-fl"));
    expect(a.status, a.text).toBe(200);
    const dir = path.join(gw.storageRoot, "renders", "planted-fl");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.symlinkSync(outside, dir);
    const w = await new WorkerClient(gw.url, "fl-planted", "linux", ["blender"]).awake();
    for (let i = 0; i < 5; i++) {
      const t = await w.task();
      expect([200, 204]).toContain(t.status);
      if (t.status === 200) expect((t.body as { job: string }).job).not.toBe(idOf(a));
    }
    const after = await gw.farm.jobs.get(idOf(a));
    expect(after.status).toBe("failed");
    expect(after.reason).toMatch(/outside the farm storage/);
  });

  it("writes no SheepIt upload outside the root through a link planted after the frame was handed out", async () => {
    await cancelAll();
    const a = await post(job({ frames: "1" }, "planted-sh"));
    expect(a.status, a.text).toBe(200);
    const c = gw.client("planted-sh");
    expect(await c.login()).toBe(0);
    const r = await c.requestJob();
    expect(r.status).toBe(0);
    const offer = r.job as JobOffer;
    const dir = path.join(gw.storageRoot, "renders", "planted-sh");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.symlinkSync(outside, dir);
    const status = await c.upload(
      { job: offer, file: `${offer.id}_${offer.frame}.png`, renderSeconds: 5 },
      await testPng(),
    );
    expect(status).not.toBe(0);
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.existsSync(frameOutputPath(path.join(outside, "######"), 1, ".png"))).toBe(false);
  });
});
