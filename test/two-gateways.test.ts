import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort, REDIS_SERVER_MISSING_MESSAGE } from "../src/app/local-redis.js";
import { FlamencoWorkerSim } from "./simulators/flamenco-worker.js";
import type { TestFarm } from "./support/farm.js";
import { exampleJob, waitFor } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { expectMatchesSchema } from "./support/openapi.js";
import { baseEnv, ensureBuilt, type GatewayProcess, spawnGateway } from "./support/process.js";
import { redisUrl } from "./support/redis.js";

/**
 * All state that matters lives in Redis, so several gateways serve one farm: two in this process
 * (each with its own connection and HTTP server) and one as a separate OS process, the way
 * `npm start` runs it. Also the real process's start-up failures and its graceful shutdown.
 */

async function json(url: string, init: RequestInit = {}) {
  const res = await fetch(url, {
    ...init,
    headers: init.body ? { "content-type": "application/json" } : {},
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("two gateways and a separate gateway process on one Redis", () => {
  let a: TestGateway;
  let b: TestGateway;
  let proc: GatewayProcess;
  let procUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    ensureBuilt();
    a = await startTestGateway("two-gateways", { TASK_TIMEOUT: "2m" });
    b = await a.twinGateway();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-proc-data-"));
    const port = await findFreePort();
    procUrl = `http://127.0.0.1:${port}`;
    proc = spawnGateway(
      baseEnv({
        REDIS_URL: redisUrl(),
        REDIS_PREFIX: a.prefix,
        STORAGE_ROOT: a.storageRoot,
        DATA_DIR: dataDir,
        HOST: "127.0.0.1",
        PORT: String(port),
        PUBLIC_URL: procUrl,
        LOG_LEVEL: "warn",
        SWEEP_INTERVAL: "200ms",
        TASK_TIMEOUT: "2m",
      }),
    );
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`gateway process exited early:\n${proc.stderr()}`);
        const res = await fetch(`${procUrl}/readyz`).catch(() => null);
        return res?.status === 200;
      },
      30_000,
      100,
    );
  }, 300_000); // a stale dist/ is rebuilt first, which takes a while on a busy machine

  afterAll(async () => {
    await proc?.kill();
    await b?.close();
    await a?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves a job submitted on one gateway from every other", async () => {
    const onA = await json(`${a.url}/api/jobs`, { method: "POST", body: JSON.stringify(exampleJob(a.storageRoot)) });
    expect(onA.status).toBe(200);
    expectMatchesSchema("Job", onA.body);
    for (const url of [b.url, procUrl]) {
      const back = await json(`${url}/api/jobs/${onA.body.id}`);
      expect(back.status).toBe(200);
      expect(back.body).toEqual(onA.body);
    }

    const onProc = await json(`${procUrl}/api/jobs`, {
      method: "POST",
      body: JSON.stringify(exampleJob(a.storageRoot, { frames: "1-5" })),
    });
    expect(onProc.status).toBe(200);
    expect(onProc.body.status).toBe("queued");
    const back = await json(`${b.url}/api/jobs/${onProc.body.id}`);
    expect(back.body).toEqual(onProc.body);
    // Both jobs are in every gateway's view of the farm, and runnable everywhere.
    const ids = new Set((await b.farm.jobs.list()).map((j) => j.id));
    expect(ids.has(String(onA.body.id)) && ids.has(String(onProc.body.id))).toBe(true);
  });

  it("never hands a frame out twice when two farms and a worker on the other process claim at once", async () => {
    const farms: TestFarm[] = [a, b];
    // Take what earlier tests left out of line, so only this job's frames are in play.
    for (const j of await a.farm.jobs.list()) await a.farm.scheduler.setRunnable(j.id, false);

    const submitted = await json(`${procUrl}/api/jobs`, {
      method: "POST",
      body: JSON.stringify(exampleJob(a.storageRoot, { frames: "1-240", chunk_size: 3 })),
    });
    expect(submitted.status).toBe(200);
    const jobId = String(submitted.body.id);

    const held = new Map<number, string[]>();
    const note = (frames: number[], who: string) => {
      for (const f of frames) held.set(f, [...(held.get(f) ?? []), who]);
    };
    // A Flamenco worker that talks only to the separate process, over HTTP.
    const sim = new FlamencoWorkerSim({
      url: procUrl,
      taskTypes: ["blender"],
      writeFiles: false,
      pollMinMs: 20,
      pollMaxMs: 100,
      retryMs: 100,
    });
    await sim.start();
    // The separate process hands out work before the loops join in (and goes on while they run).
    await waitFor(async () => sim.tasks.length > 0, 20_000, 20);
    // Eight claim loops through the two in-process farms' scheduling interface.
    const loop = async (t: TestFarm, sid: string) => {
      for (;;) {
        const got = await t.farm.work.claim({
          caps: { sessionId: sid, taskTypes: ["blender"], device: "any" },
          maxFrames: 3,
          leaseMs: 120_000,
        });
        if (!got) return;
        expect(got.job.id).toBe(jobId);
        note(got.lease.frames, sid);
        const res = await t.farm.work.complete(got.lease.id, sid);
        expect(res.lost).toEqual([]);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, k) => loop(farms[k % 2] as TestFarm, `loop-${k}`)));
    await waitFor(async () => (await a.farm.jobs.get(jobId)).completedFrames === 240, 30_000);
    // The worker's last answer may still be on its way: let it finish its task before it stops.
    await waitFor(async () => sim.tasks.every((r) => r.finished > 0), 10_000);
    await sim.stop();

    for (const r of sim.tasks) {
      expect(r.outcome).toBe("completed");
      note(r.frames, `sim-${r.task.uuid}`);
    }
    expect(sim.tasks.length).toBeGreaterThan(0);
    expect(held.size).toBe(240);
    const twice = [...held].filter(([, who]) => who.length > 1);
    expect(twice).toEqual([]);
    const job = await json(`${a.url}/api/jobs/${jobId}`);
    expectMatchesSchema("Job", job.body);
    // Frames done; the video task is next (no ffmpeg worker here), so the job is still active.
    expect(job.body.status).toBe("active");
  });

  it("stops the separate process on SIGTERM, with a connection open, and exits 0", async () => {
    // A keep-alive connection stays open after this answer; shutdown must not wait on it forever.
    expect((await fetch(`${procUrl}/healthz`)).status).toBe(200);
    proc.child.kill("SIGTERM");
    const { code, signal } = await proc.exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    await expect(fetch(`${procUrl}/healthz`)).rejects.toThrow();
    // The farm is still there for the other gateways.
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
  });
});

describe("the gateway process refuses to start with a clear message", () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-start-"));
  }, 300_000);
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("without REDIS_URL and without redis-server on PATH: how to install it, and the alternatives", async () => {
    const emptyBin = path.join(dir, "bin");
    fs.mkdirSync(emptyBin, { recursive: true });
    const proc = spawnGateway(
      baseEnv({ PATH: emptyBin, DATA_DIR: path.join(dir, "data"), STORAGE_ROOT: path.join(dir, "storage"), PORT: "0" }),
    );
    const { code } = await proc.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const err = proc.stderr();
    expect(err).toContain(REDIS_SERVER_MISSING_MESSAGE);
    expect(err).toMatch(/apt-get install -y redis-server/);
    expect(err).toMatch(/REDIS_URL/);
    expect(err).toMatch(/docker compose up/);
  });

  it.each([
    ["PORT", "abc"],
    ["LOG_LEVEL", "loud"],
    ["TASK_TIMEOUT", "soon"],
  ])("a bad %s=%s: one line naming the variable, exit 1", async (name, value) => {
    const proc = spawnGateway(
      baseEnv({
        REDIS_URL: "redis://127.0.0.1:1",
        DATA_DIR: path.join(dir, "data"),
        STORAGE_ROOT: path.join(dir, "storage"),
        [name]: value,
      }),
    );
    const { code } = await proc.exited;
    expect(code).toBe(1);
    const lines = proc.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
    expect(lines[0]).toContain(value);
    expect(proc.stdout()).toBe("");
  });
});
