import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operations } from "../contracts/flamenco/operations.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";
import { WorkerClient } from "./support/worker-http.js";

/**
 * Every route, fed garbage: the answer is always in the protocol's own form (a Flamenco `Error`
 * JSON, or SheepIt XML / a 404 for archives), never a 500, and nothing stored is lost.
 */

let gw: SheepitGateway;
let worker: WorkerClient;
let jobId: string;
let before: unknown;

const garbageBodies = [
  "",
  "{",
  "null",
  "[]",
  '"text"',
  "42",
  '{"status": 7, "priority": "high", "taskStatus": [], "name": {}}',
  JSON.stringify({ a: "x".repeat(100_000) }),
  "\u0000\u0001\u0002",
  "<xml/>",
];
const garbageIds = ["x", "00000000-0000-0000-0000-000000000000", "../../etc/passwd", "%00", "a".repeat(300)];

beforeAll(async () => {
  gw = await startSheepitGateway("bad-input");
  const job = await gw.submit("bad-input", { frames: "1-6" });
  jobId = job.id;
  before = await (await fetch(`${gw.url}/api/jobs/${jobId}`)).json();
  worker = await new WorkerClient(gw.url, "bad-input-worker", "linux", ["blender"]).awake();
});
afterAll(async () => {
  await gw.close();
});

function expectErrorJson(status: number, body: string, what: string) {
  expect(status, what).toBeLessThan(500);
  if (status === 204 || status === 200) return;
  const parsed = JSON.parse(body) as { code?: number; message?: string };
  expect(typeof parsed.message, what).toBe("string");
}

describe("garbage in, protocol errors out", () => {
  it("Flamenco routes answer JSON errors, never 500", async () => {
    for (const op of operations) {
      for (const id of garbageIds) {
        const path = op.path.replace(/\{[a-z_]+\}/g, encodeURIComponent(id));
        for (const body of op.method === "get" || op.method === "delete" ? [undefined] : garbageBodies) {
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (op.workerAuth)
            headers.authorization = `Basic ${Buffer.from(`${worker.id}:${worker.secret}`).toString("base64")}`;
          // Deleting with a real id is not garbage; the ids here never name the job.
          const res = await fetch(`${gw.url}${path}`, { method: op.method.toUpperCase(), headers, body });
          // The dashboard's event stream never ends by design: it must open, and that is all.
          if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
            expect(res.status, `${op.method} ${path}`).toBe(200);
            await res.body?.cancel();
            continue;
          }
          const text = await res.text();
          expectErrorJson(res.status, text, `${op.method} ${path} ${String(body).slice(0, 40)}`);
        }
      }
    }
  });

  it("worker auth garbage: 401 or 403 with a body, never 500", async () => {
    for (const auth of [
      "Basic",
      "Basic !!!",
      `Basic ${Buffer.from("no-colon").toString("base64")}`,
      "Bearer x",
      "Basic Og==",
    ]) {
      const res = await fetch(`${gw.url}/api/worker/task`, { method: "POST", headers: { authorization: auth } });
      expect([401, 403]).toContain(res.status);
      expect(JSON.parse(await res.text()).message).toBeTypeOf("string");
    }
  });

  it("SheepIt endpoints answer text/xml status codes (or 404 for archives), never 500", async () => {
    const client = gw.client("bad-input-client");
    expect(await client.login()).toBe(0);
    const paths = [
      "/server/config.php",
      "/server/request_job.php",
      "/server/keepmealive.php",
      "/server/error.php",
      "/server/speedtest.php",
      "/server/send_frame.php",
      "/account.php?mode=logout&worker=1",
    ];
    const queries = [
      "",
      "?job=abc&frame=-1",
      "?computemethod=9&ram_max=-5&gpu_ram=x",
      "?type=%00&job=99999999999",
      "?token=../../x",
    ];
    const bodies: Array<[string, string]> = [
      ["application/xml", "<cache><file md5="],
      [
        "application/xml",
        "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><cache>&e;</cache>",
      ],
      ["application/x-www-form-urlencoded", "login=%ZZ&password"],
      ["multipart/form-data; boundary=zzz", '--zzz\r\nContent-Disposition: form-data; name="file"\r\n\r\nnot closed'],
      ["text/plain", "\u0000".repeat(1000)],
    ];
    for (const p of paths) {
      for (const q of queries) {
        for (const [type, body] of bodies) {
          const url = `${gw.url}${p}${p.includes("?") ? q.replace("?", "&") : q}`;
          const res = await client.raw(url, { method: "POST", headers: { "content-type": type }, body });
          const text = await res.text();
          expect(res.status, `${url} ${type}`).toBeLessThan(500);
          if (p.startsWith("/server/") && res.status === 200) {
            expect(res.headers.get("content-type"), url).toMatch(/^text\/xml/);
            expect(text, url).toMatch(/status="\d+"/);
          }
        }
      }
    }
    for (const q of ["?type=job&job=abc", "?type=binary&job=-1", "?type=zip&job=20", "?job=20"]) {
      const res = await client.raw(`${gw.url}/server/archive.php${q}`);
      await res.text();
      expect(res.status).toBe(404);
    }
  });

  it("lost nothing: the job is as it was, and the farm still works", async () => {
    // Its definition is untouched (its status may have moved: valid calls among the garbage,
    // such as a worker's POST /task, took work).
    const {
      status: _s,
      updated: _u,
      ...after
    } = (await (await fetch(`${gw.url}/api/jobs/${jobId}`)).json()) as Record<string, unknown>;
    const { status: _s0, updated: _u0, ...was } = before as Record<string, unknown>;
    expect(after).toEqual(was);
    const stored = await gw.farm.jobs.get(jobId);
    expect(stored).toMatchObject({ frameCount: 6, failedFrames: 0 });
    // The garbage round signed the worker off (sign-off takes no body): it signs on again.
    expect((await worker.signOn()).status).toBe(200);
    expect((await worker.stateChanged("awake")).status).toBe(204);
    const res = await worker.task();
    expect(res.status).toBe(200);
    expect((res.body as { job: string }).job).toBe(jobId);
  });
});
