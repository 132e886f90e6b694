import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpApp } from "../src/app/server.js";
import { TINY_PNG } from "./simulators/flamenco-worker.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import type { SpecDocument } from "./support/openapi.js";
import { expectMatchesV3, flamencoV3Schemas } from "./support/openapi-v3.js";

/**
 * The contract test of `/api/v3`: one scenario calls every operation the gateway serves, and each
 * real answer is checked against what flamenco-openapi-v3.yaml says that operation answers with
 * that status (its schema, its content type, no body for a 204; an error status the operation does
 * not list must be `Error` JSON). The last test checks that every served v3 route was called.
 */

let gw: TestGateway;
const spec = () => flamencoV3Schemas().doc as SpecDocument;
/** `method path-template` of every operation the scenario called. */
const called = new Set<string>();
/** Routes the gateway serves under /api/v3 that the spec has no operation for (the image itself). */
const BEYOND_SPEC = new Set(["get /api/v3/jobs/{job_id}/last-rendered/{file}"]);

/** The spec's known slips, corrected before an answer is checked (each explained). */
const QUIRKS: Record<string, (name: string, body: Record<string, unknown>) => void> = {
  // `JobTasksSummary` requires `jobs` where it means `tasks` (3.0-beta1): check each TaskSummary.
  JobTasksSummary: (_n, body) => {
    expect(Array.isArray(body.tasks)).toBe(true);
    for (const t of body.tasks as unknown[]) expectMatchesV3("TaskSummary", t);
  },
  // `base` is host-relative (the schema's own description), yet `format: url` wants a host.
  JobLastRenderedImageInfo: (name, body) =>
    expectMatchesV3(name, { ...body, base: `https://farm.example${body.base}` }),
};

interface Call {
  body?: unknown;
  raw?: Uint8Array | string;
  headers?: Record<string, string>;
  auth?: { id: string; secret: string };
}

/** Calls `template` (its `{params}` filled from `values`) and checks the answer against the spec. */
async function op(method: string, template: string, values: Record<string, string> = {}, call: Call = {}) {
  const route = template.replace(/\{(\w+)\}/g, (_m, k: string) => {
    const v = values[k];
    if (v === undefined) throw new Error(`no value for {${k}} of ${template}`);
    return encodeURIComponent(v);
  });
  const headers: Record<string, string> = { ...call.headers };
  if (call.body !== undefined) headers["content-type"] = "application/json";
  if (call.auth) {
    headers.authorization = `Basic ${Buffer.from(`${call.auth.id}:${call.auth.secret}`).toString("base64")}`;
  }
  const body = call.body !== undefined ? JSON.stringify(call.body) : call.raw;
  const res = await fetch(gw.url + route, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  const key = `${method.toLowerCase()} ${template}`;
  const operation = spec().paths[template]?.[method.toLowerCase()];
  expect(operation, `${key} is an operation of the spec`).toBeDefined();
  // Auth failures answer 403 `SecurityError` whatever the operation lists (flamenco-v3-behaviour.md).
  const authFailure = res.status === 403 && !operation.responses["403"];
  const listed = authFailure ? null : (operation.responses[String(res.status)] ?? operation.responses.default);
  const where = `${key} answered ${res.status}: ${text.slice(0, 300)}`;
  let json: Record<string, unknown> = {};
  if (res.status === 204) {
    expect(text, where).toBe("");
  } else if (authFailure) {
    json = JSON.parse(text);
    expectMatchesV3("SecurityError", json);
  } else if (!listed) {
    expect(res.status, `${where}: a status the spec does not list`).toBeGreaterThanOrEqual(400);
    json = JSON.parse(text);
    expectMatchesV3("Error", json);
  } else if (listed.content) {
    const [type, media] = Object.entries(listed.content as Record<string, { schema?: Record<string, unknown> }>)[0] as [
      string,
      { schema?: Record<string, unknown> },
    ];
    expect(res.headers.get("content-type") ?? "", where).toContain(type);
    if (type === "application/json") {
      json = JSON.parse(text);
      const name = /#\/components\/schemas\/(.+)$/.exec(String(media.schema?.$ref))?.[1];
      expect(name, `${key}: the spec names a component`).toBeDefined();
      const quirk = QUIRKS[name as string];
      if (quirk) quirk(name as string, json);
      else expectMatchesV3(name as string, json);
    }
  }
  called.add(key);
  return { status: res.status, text, body: json };
}

beforeAll(async () => {
  gw = await startTestGateway("flamenco-v3-contract", { GATEWAY_FFMPEG: "false" });
});
afterAll(async () => {
  await gw?.close();
});

const UNKNOWN = "6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab";

describe("every /api/v3 answer matches flamenco-openapi-v3.yaml", () => {
  it("the add-on, a worker's whole cycle, the web UI's queries and the management operations", async () => {
    await op("GET", "/api/v3/version");
    const config = await op("GET", "/api/v3/configuration");
    const types = await op("GET", "/api/v3/jobs/types");
    const type = (types.body.job_types as Array<{ name: string; etag: string }>)[0] as { name: string; etag: string };
    await op("GET", "/api/v3/jobs/type/{typeName}", { typeName: type.name });
    await op("GET", "/api/v3/jobs/type/{typeName}", { typeName: "nope" });

    const storage = String(config.body.storageLocation);
    const submitted = await op(
      "POST",
      "/api/v3/jobs",
      {},
      {
        body: {
          name: "contract",
          type: "simple-blender-render",
          type_etag: type.etag,
          submitter_platform: "linux",
          settings: {
            frames: "1-2",
            chunk_size: 2,
            fps: 24,
            render_output_root: path.join(storage, "out"),
            add_path_components: 0,
            render_output_path: path.join(storage, "out", "contract", "{timestamp}", "######"),
            blendfile: path.join(storage, "jobs", "contract.blend"),
            images_or_video: "images",
            format: "PNG",
            image_file_extension: ".png",
          },
        },
      },
    );
    const job_id = String(submitted.body.id);
    expect(submitted.status).toBe(200);
    await op(
      "POST",
      "/api/v3/jobs",
      {},
      { body: { name: "x", type: type.name, submitter_platform: "linux", type_etag: "0" } },
    );

    // The worker: registration, sign-on, handshake.
    const secret = "contract-secret";
    const reg = await op(
      "POST",
      "/api/v3/worker/register-worker",
      {},
      {
        body: { secret, platform: "linux", supported_task_types: ["blender", "ffmpeg"], name: "contract-worker" },
      },
    );
    const auth = { id: String(reg.body.uuid), secret };
    const worker_id = auth.id;
    await op(
      "POST",
      "/api/v3/worker/sign-on",
      {},
      {
        auth,
        body: { name: "contract-worker", supported_task_types: ["blender", "ffmpeg"], software_version: "3.0" },
      },
    );
    await op("POST", "/api/v3/worker/state-changed", {}, { auth, body: { status: "awake" } });
    expect((await op("GET", "/api/v3/worker/state", {}, { auth })).status).toBe(204);
    await op("GET", "/api/v3/worker/state", {}, { auth: { id: auth.id, secret: "wrong" } });

    // The video task is listed (and readable) before anyone takes it, with its commands.
    const before = await op("GET", "/api/v3/jobs/{job_id}/tasks", { job_id });
    const waiting = (before.body.tasks as Array<{ id: string; name: string }>)[0];
    expect(waiting?.name).toBe("preview-video");
    const waitingTask = await op("GET", "/api/v3/tasks/{task_id}", { task_id: String(waiting?.id) });
    expect(waitingTask.body).toMatchObject({ status: "queued", task_type: "ffmpeg" });
    expect((waitingTask.body.commands as Array<{ name: string }>)[0]?.name).toBe("frames-to-video");

    // One render task: update, may-i-run, a preview.
    const got = await op("POST", "/api/v3/worker/task", {}, { auth });
    const task_id = String(got.body.uuid);
    await op(
      "POST",
      "/api/v3/worker/task/{task_id}",
      { task_id },
      {
        auth,
        body: { taskStatus: "active", activity: "Rendering frame 1", log: "Blender 3.2\n" },
      },
    );
    const mine = await op("GET", "/api/v3/worker/task/{task_id}/may-i-run", { task_id }, { auth });
    expect(mine.body.mayKeepRunning).toBe(true);
    await op("GET", "/api/v3/worker/task/{task_id}/may-i-run", { task_id: UNKNOWN }, { auth });
    await op(
      "POST",
      "/api/v3/worker/task/{task_id}/output-produced",
      { task_id },
      {
        auth,
        raw: new Uint8Array(TINY_PNG),
        headers: { "content-type": "image/png" },
      },
    );
    await op(
      "POST",
      "/api/v3/worker/task/{task_id}/output-produced",
      { task_id },
      {
        auth,
        raw: "text",
        headers: { "content-type": "text/plain" },
      },
    );

    // The web UI's view of the running task: its activity and its commands as compiled.
    const task = await op("GET", "/api/v3/tasks/{task_id}", { task_id });
    expect(task.body).toMatchObject({ status: "active", activity: "Rendering frame 1", priority: 50 });
    expect(task.body.worker).toMatchObject({ id: worker_id, name: "contract-worker", address: "127.0.0.1" });
    const [render] = task.body.commands as Array<{ name: string; parameters: Record<string, unknown> }>;
    expect(render?.name).toBe("blender-render");
    expect(render?.parameters).toMatchObject({ exe: "{blender}", argsBefore: [] });
    expect(render?.parameters.args).toEqual(expect.arrayContaining(["--render-frame", "1,2"]));
    await op("GET", "/api/v3/tasks/{task_id}", { task_id: UNKNOWN });
    await op("GET", "/api/v3/tasks/{task_id}", { task_id: "not-a-uuid" });
    await op("GET", "/api/v3/tasks/{task_id}/log", { task_id });
    const tail = await op("GET", "/api/v3/tasks/{task_id}/logtail", { task_id });
    expect(tail.text).toContain("Blender 3.2");
    const during = await op("GET", "/api/v3/jobs/{job_id}/tasks", { job_id });
    expect((during.body.tasks as Array<{ id: string }>).map((t) => t.id)).toContain(task_id);

    // Management of the worker while it renders.
    const detail = await op("GET", "/api/v3/worker-mgt/workers/{worker_id}", { worker_id });
    expect((detail.body.task as { id: string }).id).toBe(task_id);
    await op("GET", "/api/v3/worker-mgt/workers/{worker_id}", { worker_id: UNKNOWN });
    await op("GET", "/api/v3/worker-mgt/workers");
    expect((await op("GET", "/api/v3/worker-mgt/workers/{worker_id}/sleep-schedule", { worker_id })).status).toBe(204);
    const schedule = { is_active: false, days_of_week: "mo tu", start_time: "09:00", end_time: "18:00" };
    await op("POST", "/api/v3/worker-mgt/workers/{worker_id}/sleep-schedule", { worker_id }, { body: schedule });
    await op(
      "POST",
      "/api/v3/worker-mgt/workers/{worker_id}/sleep-schedule",
      { worker_id },
      {
        body: { ...schedule, start_time: "9" },
      },
    );
    await op("GET", "/api/v3/worker-mgt/workers/{worker_id}/sleep-schedule", { worker_id });
    await op(
      "POST",
      "/api/v3/worker-mgt/workers/{worker_id}/setstatus",
      { worker_id },
      {
        body: { status: "awake", is_lazy: true },
      },
    );
    await op(
      "POST",
      "/api/v3/worker-mgt/workers/{worker_id}/setstatus",
      { worker_id },
      {
        body: { status: "exploded", is_lazy: true },
      },
    );

    // The render completes; the video task follows; the job completes.
    await op("POST", "/api/v3/worker/task/{task_id}", { task_id }, { auth, body: { taskStatus: "completed" } });
    await op("POST", "/api/v3/worker/task/{task_id}", { task_id }, { auth, body: { taskStatus: "exploded" } });
    const video = await op("POST", "/api/v3/worker/task", {}, { auth });
    expect(video.body.name).toBe("preview-video");
    await op(
      "POST",
      "/api/v3/worker/task/{task_id}",
      { task_id: String(video.body.uuid) },
      {
        auth,
        body: { taskStatus: "completed" },
      },
    );
    expect((await op("POST", "/api/v3/worker/task", {}, { auth })).status).toBe(204);
    const done = await op("GET", "/api/v3/jobs/{job_id}", { job_id });
    expect(done.body.status).toBe("completed");
    await op("GET", "/api/v3/jobs/{job_id}", { job_id: UNKNOWN });
    await op(
      "POST",
      "/api/v3/jobs/query",
      {},
      { body: { status_in: ["completed"], order_by: ["-updated"], limit: 3 } },
    );
    await op("POST", "/api/v3/jobs/query", {}, { body: { limit: 0 } });
    const info = await op("GET", "/api/v3/jobs/{job_id}/last-rendered", { job_id });
    await op("GET", "/api/v3/jobs/last-rendered");
    // The image itself, at `{base}/{suffix}` (no operation of its own in the spec).
    const image = await fetch(`${gw.url}${info.body.base}/${(info.body.suffixes as string[])[0]}`);
    expect(image.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await image.arrayBuffer()).equals(TINY_PNG)).toBe(true);
    called.add("get /api/v3/jobs/{job_id}/last-rendered/{file}");
    await op("GET", "/api/v3/jobs/{job_id}/blocklist", { job_id });
    await op("DELETE", "/api/v3/jobs/{job_id}/blocklist", { job_id }, { body: [] });
    await op("DELETE", "/api/v3/jobs/{job_id}/blocklist", { job_id }, { body: [{ worker_id: "x", task_type: "y" }] });

    // An operator requeues the render task; then cancels the job.
    await op("POST", "/api/v3/tasks/{task_id}/setstatus", { task_id }, { body: { status: "queued", reason: "again" } });
    await op("POST", "/api/v3/tasks/{task_id}/setstatus", { task_id }, { body: { status: "paused", reason: "no" } });
    await op(
      "POST",
      "/api/v3/jobs/{job_id}/setstatus",
      { job_id },
      { body: { status: "cancel-requested", reason: "done" } },
    );
    await op("POST", "/api/v3/jobs/{job_id}/setstatus", { job_id }, { body: { status: "paused", reason: "too late" } });

    await op("POST", "/api/v3/worker/sign-off", {}, { auth });
  });

  it("called every route the gateway serves under /api/v3", () => {
    const served = createHttpApp(gw.farm)
      .routes.filter((r) => r.path.startsWith("/api/v3/") && r.method !== "ALL" && !r.path.includes("*"))
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`);
    expect(served.length).toBeGreaterThan(30);
    expect([...new Set(served)].filter((k) => !called.has(k))).toEqual([]);
    for (const key of served) {
      if (BEYOND_SPEC.has(key)) continue;
      const [method, route] = key.split(" ") as [string, string];
      expect(spec().paths[route]?.[method], `${key} is in the spec`).toBeDefined();
    }
  });
});
