import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleJob, waitFor } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { repoRoot } from "./support/process.js";
import { WorkerClient } from "./support/worker-http.js";

/**
 * The simulated worker as its own process (tools/flamenco-worker-sim.ts): it registers once and
 * keeps its credentials in a file, and SIGINT makes it sign off, so the task it was rendering goes
 * back in line at once.
 */

let gw: TestGateway;
let outDir: string;

beforeAll(() => {
  // Compile just the tool and the simulator (they import nothing but Node's own modules).
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-sim-build-"));
  const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
  const res = spawnSync(
    process.execPath,
    [
      tsc,
      "--outDir",
      outDir,
      "--rootDir",
      repoRoot,
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--target",
      "es2022",
      "--types",
      "node",
      "--skipLibCheck",
      path.join(repoRoot, "tools/flamenco-worker-sim.ts"),
    ],
    { cwd: repoRoot, encoding: "utf8" },
  );
  if (!fs.existsSync(path.join(outDir, "tools/flamenco-worker-sim.js")))
    throw new Error(`build failed: ${res.stdout}${res.stderr}`);
}, 120_000);

beforeAll(async () => {
  gw = await startTestGateway("fw-sim-proc");
});

afterAll(async () => {
  await gw?.close();
  fs.rmSync(outDir, { recursive: true, force: true });
});

function startTool(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [path.join(outDir, "tools/flamenco-worker-sim.js"), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => (out += String(d)));
  child.stderr?.on("data", (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe("the simulated worker as a process", () => {
  it("signs off on SIGINT, giving its task back at once; keeps its credentials between runs", async () => {
    const job = await gw.farm.jobs.submit(exampleJob(gw.storageRoot, { frames: "1-4", chunk_size: 4 }));
    const creds = path.join(outDir, "credentials.json");
    const args = ["--url", gw.url, "--nickname", "sim-proc", "--render-ms", "60000", "--credentials", creds];
    const first = startTool(args);
    await waitFor(async () => /task [0-9a-f-]{36} render-1-4/.test(first.output()), 40_000);
    const { id } = JSON.parse(fs.readFileSync(creds, "utf8")) as { id: string };
    expect((await gw.farm.workers.get(id)).status).toBe("awake");
    expect(await gw.farm.work.held(id)).toHaveLength(1);

    first.child.kill("SIGINT");
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain("signed off");
    expect((await gw.farm.workers.get(id)).status).toBe("offline");
    expect(await gw.farm.work.held(id)).toEqual([]);
    // The frames are free for another worker right away.
    const other = await new WorkerClient(gw.url).awake();
    const a = await other.task();
    expect(a.body).toMatchObject({ job: job.id, name: "render-1-4" });
    await other.call("POST", "/api/worker/sign-off");

    // A second run uses the same credentials: no new registration.
    const second = startTool(args);
    await waitFor(async () => second.output().includes(`worker ${id} signed on`), 40_000);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect((await gw.farm.workers.list()).filter((w) => w.nickname === "sim-proc")).toHaveLength(1);
  });
});
