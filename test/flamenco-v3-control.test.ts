import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FlamencoV3WorkerSim } from "./simulators/flamenco-v3-worker.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { expectMatchesV3 } from "./support/openapi-v3.js";

// Control is allowed only from a network the test client (127.0.0.1) is not in: every request of
// this file comes from a foreign address (as in test/control-auth.test.ts).
const FOREIGN = { CONTROL_ALLOWED_NETWORKS: "192.0.2.0/24" };
const SOME_ID = "6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway("flamenco-v3-control", FOREIGN);
});
afterAll(async () => {
  await gw?.close();
});

async function call(method: string, route: string, body?: unknown) {
  const res = await fetch(gw.url + route, {
    method,
    headers: body !== undefined ? { "content-type": "application/json" } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, text: await res.text() };
}

describe("Flamenco 3 farm control from a foreign network", () => {
  it("refuses every v3 control route with 403", async () => {
    const routes: Array<[string, string, unknown?]> = [
      ["POST", "/api/v3/jobs", { name: "x", type: "echo-sleep-test", submitter_platform: "linux" }],
      ["POST", "/api/v3/jobs/query", {}],
      ["GET", `/api/v3/jobs/${SOME_ID}`],
      ["GET", `/api/v3/jobs/${SOME_ID}/tasks`],
      ["POST", `/api/v3/jobs/${SOME_ID}/setstatus`, { status: "cancel-requested", reason: "attacker" }],
      ["GET", `/api/v3/jobs/${SOME_ID}/last-rendered`],
      ["GET", "/api/v3/jobs/last-rendered"],
      ["GET", `/api/v3/tasks/${SOME_ID}`],
      ["GET", `/api/v3/tasks/${SOME_ID}/log`],
      ["GET", `/api/v3/tasks/${SOME_ID}/logtail`],
      ["GET", "/api/v3/worker-mgt/workers"],
      ["GET", `/api/v3/worker-mgt/workers/${SOME_ID}`],
      ["POST", `/api/v3/worker-mgt/workers/${SOME_ID}/setstatus`, { status: "offline", is_lazy: false }],
      ["GET", `/api/v3/worker-mgt/workers/${SOME_ID}/sleep-schedule`],
      [
        "POST",
        `/api/v3/worker-mgt/workers/${SOME_ID}/sleep-schedule`,
        { is_active: true, days_of_week: "", start_time: "", end_time: "" },
      ],
      ["GET", `/api/v3/jobs/${SOME_ID}/blocklist`],
      ["DELETE", `/api/v3/jobs/${SOME_ID}/blocklist`, []],
      ["POST", `/api/v3/tasks/${SOME_ID}/setstatus`, { status: "canceled", reason: "attacker" }],
      ["GET", "/api/v3/no-such-route"],
    ];
    for (const [method, route, body] of routes) {
      const a = await call(method, route, body);
      expect(a.status, `${method} ${route}: ${a.text}`).toBe(403);
    }
    expect((await gw.farm.jobs.list()).length).toBe(0);
  });

  it("keeps open what the add-on and workers read first, and the worker cycle", async () => {
    for (const route of [
      "/api/v3/version",
      "/api/v3/configuration",
      "/api/v3/jobs/types",
      "/api/v3/jobs/type/simple-blender-render",
    ]) {
      const a = await call("GET", route);
      expect(a.status, route).toBe(200);
    }
    const w = new FlamencoV3WorkerSim(gw.url);
    await w.start();
    expect(await w.runTask()).toBeNull();
    const state = await w.call("GET", "/api/v3/worker/state");
    expect(state.status).toBe(204);
    const mine = await w.call("GET", `/api/v3/worker/task/${SOME_ID}/may-i-run`);
    expectMatchesV3("MayKeepRunning", mine.body);
  });
});

describe("bad input to /api/v3", () => {
  it("answers Error JSON with 400/404, never a 500", async () => {
    const cases: Array<[string, string, string | undefined, number]> = [
      ["POST", "/api/v3/worker/register-worker", "{not json", 400],
      ["POST", "/api/v3/worker/register-worker", '{"secret":"s","platform":"linux","supported_task_types":[]}', 400],
      [
        "POST",
        "/api/v3/worker/register-worker",
        '{"secret":"","name":"x","platform":"linux","supported_task_types":[]}',
        400,
      ],
      ["GET", "/api/v3/no-such", undefined, 403],
    ];
    for (const [method, route, raw, status] of cases) {
      const res = await fetch(gw.url + route, {
        method,
        headers: { "content-type": "application/json" },
        ...(raw !== undefined ? { body: raw } : {}),
      });
      const body = (await res.json()) as Record<string, unknown>;
      expect(res.status, `${method} ${route} ${raw}`).toBe(status);
      expect(typeof body.message).toBe("string");
    }
    const w = new FlamencoV3WorkerSim(gw.url);
    await w.start();
    const badId = await w.call("GET", "/api/v3/worker/task/not-a-uuid/may-i-run");
    expect(badId.status).toBe(400);
    expectMatchesV3("Error", badId.body);
    const badUpdate = await w.call("POST", `/api/v3/worker/task/${SOME_ID}`, { taskStatus: "exploded" });
    expect(badUpdate.status).toBe(400);
    const unknownTask = await w.call("POST", `/api/v3/worker/task/${SOME_ID}`, { taskStatus: "completed" });
    expect(unknownTask.status).toBe(404);
    const badState = await w.call("POST", "/api/v3/worker/state-changed", { status: "shutdown" });
    expect(badState.status).toBe(400);
    const preview = await w.call(
      "POST",
      `/api/v3/worker/task/${SOME_ID}/output-produced`,
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]),
      { "content-type": "image/png" },
    );
    expect(preview.status).toBe(404);
  });
});
