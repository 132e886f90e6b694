import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { expectMatchesSchema, specExample } from "./support/openapi.js";

/**
 * The Flamenco job API over real HTTP, each answer checked against flamenco-openapi.yaml:
 * version, job types, submission (valid and each kind of invalid), fetching, errors for unknown
 * routes and methods, and a 100,000-frame job in one request.
 */

interface SubmittedJob {
  name?: string;
  type?: string;
  priority?: number;
  settings: Record<string, unknown>;
  metadata?: Record<string, string>;
}

let gw: TestGateway;
let outside: string;

beforeAll(async () => {
  gw = await startTestGateway("flamenco-jobs");
  outside = fs.mkdtempSync(path.join(os.tmpdir(), "bw-outside-"));
});

afterAll(async () => {
  await gw?.close();
  if (outside) fs.rmSync(outside, { recursive: true, force: true });
});

/** The spec's example job, its absolute paths moved under the gateway's STORAGE_ROOT. */
function specJob(): SubmittedJob {
  const job = specExample<SubmittedJob>("SubmittedJob");
  for (const key of ["filepath", "render_output"]) {
    job.settings[key] = path.join(gw.storageRoot, String(job.settings[key]));
  }
  return job;
}

function withSettings(change: Record<string, unknown>, drop: string[] = []): SubmittedJob {
  const job = specJob();
  Object.assign(job.settings, change);
  for (const key of drop) delete job.settings[key];
  return job;
}

async function call(method: string, route: string, body?: unknown, raw?: string) {
  const res = await fetch(`${gw.url}${route}`, {
    method,
    headers: body !== undefined || raw !== undefined ? { "content-type": "application/json" } : {},
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    text,
    json: json as Record<string, unknown>,
  };
}

/** Asserts a Flamenco `Error` answer with `status` whose message matches `mentions`. */
function expectError(res: Awaited<ReturnType<typeof call>>, status: number, mentions?: RegExp) {
  expect(res.status, res.text).toBe(status);
  expect(res.type).toMatch(/^application\/json/);
  expectMatchesSchema("Error", res.json);
  expect(res.json.code).toBe(status);
  if (mentions) expect(res.json.message).toMatch(mentions);
}

describe("Flamenco job API over HTTP", () => {
  it("GET /api/version answers a FlamencoVersion", async () => {
    const res = await call("GET", "/api/version");
    expect(res.status).toBe(200);
    expectMatchesSchema("FlamencoVersion", res.json);
    expect(res.json.name).toBeTruthy();
  });

  it("GET /api/jobs/types lists simple-blender-render with the Manager's settings", async () => {
    const res = await call("GET", "/api/jobs/types");
    expect(res.status).toBe(200);
    expectMatchesSchema("AvailableJobTypes", res.json);
    const types = res.json.job_types as Array<{ name: string; settings: Array<Record<string, unknown>> }>;
    const sbr = types.find((t) => t.name === "simple-blender-render");
    expect(sbr).toBeDefined();
    const byKey = new Map((sbr?.settings ?? []).map((s) => [s.key as string, s]));
    expect([...byKey.keys()].sort()).toEqual(
      [
        "blender_cmd",
        "chunk_size",
        "extract_audio",
        "filepath",
        "format",
        "fps",
        "frames",
        "images_or_video",
        "output_file_extension",
        "render_output",
      ].sort(),
    );
    expect(byKey.get("blender_cmd")).toMatchObject({ type: "string", default: "{blender}", visible: false });
    expect(byKey.get("filepath")).toMatchObject({
      type: "string",
      subtype: "file_path",
      required: true,
      visible: false,
      description: "Blend file to render",
    });
    expect(byKey.get("chunk_size")).toMatchObject({ type: "int32", default: 1 });
    expect(byKey.get("frames")).toMatchObject({ type: "string", required: true });
    expect(byKey.get("render_output")).toMatchObject({ type: "string", required: true, subtype: "hashed_file_path" });
    // Blender's rate is fps / fps_base (23.976, 29.97): a float, as later Managers declare it.
    expect(byKey.get("fps")).toMatchObject({ type: "float" });
    expect(byKey.get("extract_audio")).toMatchObject({ type: "bool", default: true });
    expect(byKey.get("images_or_video")).toMatchObject({
      type: "string",
      required: true,
      choices: ["images", "video"],
      visible: false,
    });
    for (const key of ["format", "output_file_extension"]) {
      expect(byKey.get(key)).toMatchObject({ type: "string", required: true });
    }
  });

  it("accepts the spec's example job as it stands (paths in STORAGE_ROOT, files not there yet) and fetches it back", async () => {
    const submitted = specJob();
    expect(fs.existsSync(String(submitted.settings.filepath))).toBe(false);
    const res = await call("POST", "/api/jobs", submitted);
    expect(res.status, res.text).toBe(200);
    expectMatchesSchema("Job", res.json);
    expect(res.json).toMatchObject({
      name: "3Д рендеринг",
      type: "simple-blender-render",
      priority: 50,
      status: "queued",
      metadata: submitted.metadata,
    });
    expect(res.json.settings).toMatchObject({ frames: "1-10", chunk_size: 3, filepath: submitted.settings.filepath });

    const back = await call("GET", `/api/jobs/${res.json.id}`);
    expect(back.status).toBe(200);
    expectMatchesSchema("Job", back.json);
    expect(back.json).toEqual(res.json);

    // Compiled and in line: ten frames wait in the job's queue.
    const stored = await gw.farm.jobs.get(String(res.json.id));
    expect(stored.frameCount).toBe(10);
    const counts = await gw.farm.scheduler.queues.queue(stored.id).getJobCounts("wait", "prioritized");
    expect((counts.wait ?? 0) + (counts.prioritized ?? 0)).toBe(10);
  });

  describe("rejects bad submissions with a 400 Error naming the problem, storing nothing", () => {
    const cases: Array<[string, () => SubmittedJob | string, RegExp]> = [
      ["a missing required setting", () => withSettings({}, ["frames"]), /settings\.frames/],
      ["a setting of the wrong type", () => withSettings({ chunk_size: "3" }), /settings\.chunk_size/],
      ["a float where an int32 is due", () => withSettings({ chunk_size: 2.5 }), /settings\.chunk_size/],
      ["a choice not offered", () => withSettings({ images_or_video: "gif" }), /settings\.images_or_video/],
      ["a malformed frame range", () => withSettings({ frames: "1-x" }), /settings\.frames/],
      ["a backwards frame range", () => withSettings({ frames: "10-1" }), /settings\.frames/],
      ["a space inside a number ('1 10' is not frame 110)", () => withSettings({ frames: "1 10" }), /settings\.frames/],
      ["an empty frame range", () => withSettings({ frames: "" }), /settings\.frames/],
      ["chunk_size 0", () => withSettings({ chunk_size: 0 }), /settings\.chunk_size/],
      [
        "a filepath that leaves STORAGE_ROOT by ..",
        () => withSettings({ filepath: path.join(gw.storageRoot, "jobs", "..", "..", "..", "etc", "scene.blend") }),
        /settings\.filepath/,
      ],
      [
        "a filepath elsewhere, absolute",
        () => withSettings({ filepath: path.join(outside, "scene.blend") }),
        /settings\.filepath/,
      ],
      [
        "a render_output elsewhere, absolute",
        () => withSettings({ render_output: path.join(outside, "frames", "######") }),
        /settings\.render_output/,
      ],
      [
        "a filepath through a symbolic link inside STORAGE_ROOT that points out",
        () => {
          const link = path.join(gw.storageRoot, "escape");
          if (!fs.existsSync(link)) fs.symlinkSync(outside, link);
          return withSettings({ filepath: path.join(link, "scene.blend") });
        },
        /settings\.filepath/,
      ],
      ["an unknown job type", () => ({ ...specJob(), type: "make-coffee" }), /type/],
      [
        "a missing name",
        () => {
          const { name: _name, ...rest } = specJob();
          return rest;
        },
        /name/,
      ],
      ["a body that is not JSON", () => '{"name": "x", "type": ', /JSON/],
      ["a body that is a JSON array", () => "[1, 2]", /./],
      ["an empty body", () => "", /./],
    ];

    it.each(cases)("%s", async (_label, make, mentions) => {
      const before = (await gw.farm.jobs.list()).length;
      const body = make();
      const res =
        typeof body === "string"
          ? await call("POST", "/api/jobs", undefined, body)
          : await call("POST", "/api/jobs", body);
      expectError(res, 400, mentions);
      expect((await gw.farm.jobs.list()).length).toBe(before);
    });
  });

  it("answers 400 for a malformed job id and 404 for an unknown one", async () => {
    expectError(await call("GET", "/api/jobs/not-a-uuid"), 400, /job_id/);
    expectError(await call("GET", "/api/jobs/3f1e3c5a-0d7b-4a57-8a8e-1f0d1d7a9b10"), 404, /3f1e3c5a/);
  });

  it("answers unknown routes and methods with a JSON Error, not HTML", async () => {
    expectError(await call("GET", "/api/no-such-thing"), 404);
    expectError(await call("GET", "/no-such-page"), 404);
    expectError(await call("DELETE", "/api/version"), 404);
    expectError(await call("PUT", "/api/jobs", specJob()), 404);
    const patch = await call("PATCH", "/api/jobs/types");
    expect(patch.status).toBeGreaterThanOrEqual(400);
    expect(patch.status).toBeLessThan(500);
    expectMatchesSchema("Error", patch.json);
  });

  it("accepts a 100,000-frame job in one request, every frame claimable", async () => {
    const res = await call(
      "POST",
      "/api/jobs",
      withSettings({ frames: "1-100000", chunk_size: 10, render_output: path.join(gw.storageRoot, "big/######") }),
    );
    expect(res.status, res.text).toBe(200);
    expectMatchesSchema("Job", res.json);
    expect(res.json.status).toBe("queued");
    const job = await gw.farm.jobs.get(String(res.json.id));
    expect(job.frameCount).toBe(100_000);
    // Answered with the first window of frames in line as BullMQ jobs; the others are a cursor
    // over the frame list, in line behind them, that the claims materialise as they go.
    const queue = gw.farm.scheduler.queues.queue(job.id);
    const c = await queue.getJobCounts("wait", "prioritized", "active");
    const materialised = (c.wait ?? 0) + (c.prioritized ?? 0);
    expect(materialised).toBeGreaterThan(0);
    expect(materialised).toBeLessThanOrEqual(1000);
    expect(c.active ?? 0).toBe(0);
    const [enq, total] = (await gw.redis.hmget(gw.farm.keys.schedJob(job.id), "enq", "total")).map(Number);
    expect(materialised + ((total as number) - (enq as number))).toBe(100_000);
    expect(await gw.redis.hgetall(gw.farm.keys.schedRuns(job.id))).toEqual({ "0": "1,100000,0" });
    expect((await queue.getJob("f0"))?.data).toEqual({ i: 0, f: 1 });
  });
});
