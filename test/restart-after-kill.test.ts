import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort } from "../src/app/local-redis.js";
import { exampleJob, waitFor } from "./support/farm.js";
import { baseEnv, ensureBuilt, type GatewayProcess, spawnGateway } from "./support/process.js";

/**
 * A gateway that runs its own redis-server (no REDIS_URL) and is killed with SIGKILL starts again
 * on the same DATA_DIR by itself, with everything it had: nobody has to find and kill a Redis.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("a gateway killed with kill -9", () => {
  let dir: string;
  const procs: GatewayProcess[] = [];

  beforeAll(() => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-kill9-"));
  }, 300_000);
  afterAll(async () => {
    for (const p of procs) await p.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(port: number): Promise<GatewayProcess> {
    const proc = spawnGateway(
      baseEnv({
        DATA_DIR: path.join(dir, "data"),
        STORAGE_ROOT: path.join(dir, "storage"),
        HOST: "127.0.0.1",
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        LOG_LEVEL: "warn",
      }),
    );
    procs.push(proc);
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`gateway exited early:\n${proc.stderr()}`);
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
        return res?.status === 200;
      },
      30_000,
      100,
    );
    return proc;
  }

  it("starts again on the same DATA_DIR, answers /readyz, and still has the job", async () => {
    const port = await findFreePort();
    const url = `http://127.0.0.1:${port}`;
    const first = await start(port);
    const storageRoot = path.join(dir, "storage");
    const res = await fetch(`${url}/api/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(exampleJob(storageRoot, { frames: "1-4" })),
    });
    expect(res.status).toBe(200);
    const job = (await res.json()) as { id: string };

    const pidfile = path.join(dir, "data", "redis", "redis-server.pid");
    const redisPid = Number(fs.readFileSync(pidfile, "utf8"));
    first.child.kill("SIGKILL");
    const { signal } = await first.exited;
    expect(signal).toBe("SIGKILL");
    // Its redis-server ends with it (Linux: setpriv --pdeathsig), flushing its append-only file.
    await waitFor(async () => !alive(redisPid), 15_000, 50);

    await start(port);
    const back = await fetch(`${url}/api/jobs/${job.id}`);
    expect(back.status).toBe(200);
    expect(((await back.json()) as { id: string }).id).toBe(job.id);
  }, 120_000);
});
