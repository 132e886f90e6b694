import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis } from "../adapters/redis/connection.js";
import { loadConfig } from "../src/app/config.js";
import { createFarm, type Farm } from "../src/app/farm.js";
import { findFreePort } from "../src/app/local-redis.js";
import { createLogger } from "../src/app/logger.js";
import { renderClientsOf } from "../src/app/render-clients.js";
import type { JobDefinition } from "../src/domain/jobs/job.js";
import { buildRendererZip } from "./simulators/fake-renderer.js";
import { FlamencoWorkerSim } from "./simulators/flamenco-worker.js";
import { SheepItClient } from "./simulators/sheepit-client.js";
import { waitFor } from "./support/farm.js";
import { baseEnv, ensureBuilt, type GatewayProcess, spawnGateway } from "./support/process.js";

/**
 * Redis goes away and comes back many times under load: a redis-server of this test's own
 * (append-only, fsync on every write, so a SIGKILL loses nothing acknowledged), two gateway
 * processes, two Flamenco workers and two SheepIt clients on them. Each round puts a job in line,
 * waits until its frames are being handed out and completed, then stops Redis (SIGTERM or SIGKILL
 * in turn) and starts it again on the same port and files. In the end every frame of every job is
 * completed exactly once in the farm's books, nothing is out, nothing is stuck.
 */

const ROUNDS = 8;
const FRAMES = 30;
const PASSWORD = "correct horse battery";

class OwnRedis {
  private child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}
  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--appendonly", "yes", "--appendfsync"];
    args.push("always", "--save", "", "--dir", this.dir, "--logfile", "");
    const child = spawn("redis-server", args, { stdio: "ignore" });
    this.child = child;
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error("redis-server exited at start");
          try {
            if (probe.status !== "ready") await probe.connect();
            const info = await probe.info("persistence");
            return !/loading:1/.test(info);
          } catch {
            probe.disconnect();
            return false;
          }
        },
        10_000,
        20,
      );
    } finally {
      probe.disconnect();
    }
  }
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }
}

/** What is left of the jobs (for the failure message). */
async function stuck(farm: Farm, jobIds: string[]): Promise<string> {
  const lines: string[] = [];
  for (const id of jobIds) {
    const job = await farm.jobs.get(id);
    if (job.status === "completed") continue;
    const states = await farm.redis.hgetall(farm.keys.frameStates(id));
    const open = Object.entries(states).filter(([, st]) => !st.startsWith("c|"));
    const bull = async (l: string) => farm.redis.lrange(farm.keys.bull(id, l), 0, -1);
    const prio = await farm.redis.zrange(farm.keys.bull(id, "prioritized"), 0, -1);
    const active = await bull("active");
    const locks = await Promise.all(active.map((b) => farm.redis.get(`${farm.keys.bull(id, b)}:lock`)));
    const leases = await Promise.all(
      locks.map((t) => (t ? farm.redis.hget(farm.keys.lease(t), "state") : Promise.resolve(null))),
    );
    lines.push(
      `${id} ${job.status} ${job.completedFrames}/${FRAMES} open=${JSON.stringify(open)} wait=${await bull("wait")} ` +
        `prio=${prio} active=${active.map((b, k) => `${b}:${locks[k]}:${leases[k]}`)} ` +
        `runnable=${await farm.redis.zscore(farm.keys.runnable(), id)} engaged=${await farm.redis.zscore(farm.keys.engaged(), id)}`,
    );
  }
  return lines.join("\n");
}

describe("the farm through Redis restarts under load", () => {
  let redis: OwnRedis;
  let farm: Farm;
  let gateways: GatewayProcess[] = [];
  let urls: string[] = [];
  let root: string;

  beforeAll(async () => {
    ensureBuilt();
    root = fs.mkdtempSync(path.join(os.tmpdir(), "bw-faults-"));
    fs.mkdirSync(path.join(root, "redis"));
    redis = new OwnRedis(await findFreePort(), path.join(root, "redis"));
    await redis.start();
    const env = {
      REDIS_URL: redis.url,
      REDIS_PREFIX: "faults",
      STORAGE_ROOT: path.join(root, "storage"),
      LOG_LEVEL: "silent",
      SWEEP_INTERVAL: "200ms",
      // Work whose answer was lost comes back soon (the late answer is still taken when nobody
      // else has the frame).
      TASK_TIMEOUT: "3s",
      SHEEPIT_LEASE: "3s",
      WORKER_TIMEOUT: "30s",
      GATEWAY_FFMPEG: "false",
      RENDERERS_DIR: path.join(root, "renderers"),
    };
    fs.mkdirSync(env.STORAGE_ROOT, { recursive: true });
    const config = loadConfig({ ...env, DATA_DIR: path.join(root, "data-setup") });
    farm = createFarm(config, connectRedis(redis.url, "faults-setup"), createLogger("silent"));
    const rc = renderClientsOf(farm);
    await rc.renderers.add(await buildRendererZip(root), {
      name: "blender-test",
      os: "linux",
      bits: "64bit",
      isDefault: true,
    });
    await rc.accounts.add("alice", PASSWORD);
    for (const k of [0, 1]) {
      const port = await findFreePort();
      const url = `http://127.0.0.1:${port}`;
      const gw = spawnGateway(
        baseEnv({
          ...env,
          DATA_DIR: path.join(root, `data-${k}`),
          HOST: "127.0.0.1",
          PORT: String(port),
          PUBLIC_URL: url,
        }),
      );
      gateways.push(gw);
      urls.push(url);
      await waitFor(
        async () => {
          if (gw.child.exitCode !== null) throw new Error(`gateway exited early:\n${gw.stderr()}`);
          return (await fetch(`${url}/readyz`).catch(() => null))?.status === 200;
        },
        30_000,
        100,
      );
    }
  }, 300_000);

  afterAll(async () => {
    for (const gw of gateways) await gw.kill();
    await farm?.close();
    farm?.redis.disconnect();
    await redis?.stop("SIGTERM");
    if (root) fs.rmSync(root, { recursive: true, force: true });
    gateways = [];
    urls = [];
  });

  it("completes every frame exactly once and leaves none stuck, both kinds of client, two gateways", async () => {
    const scene = path.join(root, "storage", "projects", "faults", "scene.blend");
    fs.mkdirSync(path.dirname(scene), { recursive: true });
    fs.writeFileSync(scene, "BLENDER-v300 fake scene\n".repeat(50));
    const definition = (k: number): JobDefinition => ({
      type: "simple-blender-render",
      name: `faults-${k}`,
      priority: 50,
      settings: {
        blender_cmd: "{blender}",
        filepath: scene,
        render_output: path.join(root, "storage", "renders", `r${k}`, "frame_######"),
        frames: `1-${FRAMES}`,
        chunk_size: 1 + (k % 3),
        fps: 24,
        extract_audio: false,
        images_or_video: "images",
        format: "OPEN_EXR",
        output_file_extension: ".exr",
      },
      metadata: {},
    });

    const workers = urls.map(
      (url, k) =>
        new FlamencoWorkerSim({
          url,
          nickname: `fw-${k}`,
          taskTypes: ["blender"],
          writeFiles: false,
          renderDelayMs: 5,
          pollMinMs: 20,
          pollMaxMs: 100,
          retryMs: 100,
        }),
    );
    for (const w of workers) await w.start();
    const clients = urls.map(
      (url, k) =>
        new SheepItClient({
          url,
          login: "alice",
          password: PASSWORD,
          workDir: path.join(root, "clients", `c${k}`),
          hostname: `box-${k}`,
          hwid: `hw-${k}`,
          retryDelaysMs: [50, 100, 200, 400],
        }),
    );
    let finished = false;
    const sheepit = clients.map(async (c) => {
      while (!finished) {
        try {
          if ((await c.login()) !== 0) {
            await new Promise((r) => setTimeout(r, 100));
            continue;
          }
          await c.run({ maxRequests: 1_000_000, idleMs: 50, done: () => finished });
        } catch {
          // The gateway answered badly while Redis was away: log in again and go on.
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });

    const jobIds: string[] = [];
    for (let k = 0; k < ROUNDS; k++) {
      const job = await farm.jobs.submit(definition(k));
      jobIds.push(job.id);
      // Under load: frames of this round's job are being handed out and completed.
      await waitFor(async () => (await farm.jobs.get(job.id)).completedFrames >= 3, 30_000, 10);
      await redis.stop(k % 2 ? "SIGKILL" : "SIGTERM");
      await new Promise((r) => setTimeout(r, 150));
      await redis.start();
    }
    const allDone = async () => {
      const jobs = await Promise.all(jobIds.map((id) => farm.jobs.get(id)));
      return jobs.every((j) => j.status === "completed");
    };
    await waitFor(allDone, 40_000, 100).catch(async () => {
      const uploads = clients.map((c) => JSON.stringify(c.uploads.filter((u) => u.status !== 0)));
      throw new Error(`not all jobs completed:\n${await stuck(farm, jobIds)}\nuploads not accepted: ${uploads}`);
    });
    finished = true;
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(sheepit);

    const keys = farm.keys;
    for (const id of jobIds) {
      const job = await farm.jobs.get(id);
      // Counted once each: the job's counter is the number of frames marked completed, the total.
      expect(job).toMatchObject({ status: "completed", completedFrames: FRAMES, failedFrames: 0 });
      const states = await farm.redis.hgetall(keys.frameStates(id));
      const completed = Object.entries(states).filter(([i, st]) => Number(i) >= 0 && st.startsWith("c|"));
      expect(completed.map(([i]) => Number(i)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: FRAMES }, (_, i) => i),
      );
      // Nothing of it is out, in line or failed in BullMQ.
      for (const list of ["active", "wait"]) expect(await farm.redis.llen(keys.bull(id, list)), list).toBe(0);
      for (const set of ["prioritized", "failed"]) expect(await farm.redis.zcard(keys.bull(id, set)), set).toBe(0);
    }
    // A frame may be answered success twice: a late copy of a frame that another client now holds
    // or finished is answered success and dropped, so the client moves on (frame-acceptance.ts,
    // sheepit-client-behaviour.md: any other answer strands or disables it). What must hold is
    // above (each frame completed once, under one lease) and here: every frame the books give to
    // a SheepIt session was answered success to a SheepIt client.
    const accepted = clients.flatMap((c) => c.uploads.filter((u) => u.status === 0).map((u) => `${u.job}/${u.frame}`));
    const acceptedSet = new Set(accepted);
    let bySheepit = 0;
    for (const id of jobIds) {
      const job = await farm.jobs.get(id);
      const states = await farm.redis.hgetall(keys.frameStates(id));
      for (const [i, st] of Object.entries(states)) {
        if (Number(i) < 0 || !st.startsWith("c|")) continue;
        const session = await farm.sessions.get(st.split("|")[1] as string);
        if (session?.protocol !== "sheepit") continue;
        bySheepit++;
        expect(acceptedSet, `frame index ${i} of ${id}`).toContain(
          `${job.sheepitId}/${String(Number(i) + 1).padStart(4, "0")}`,
        );
      }
    }
    expect(bySheepit).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThan(0);
    expect(workers.flatMap((w) => w.tasks).filter((t) => t.outcome === "completed").length).toBeGreaterThan(0);
    for (const gw of gateways) expect(gw.child.exitCode, gw.stderr()).toBeNull();
  }, 120_000);
});
