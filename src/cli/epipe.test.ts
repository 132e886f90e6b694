import { spawn } from "node:child_process";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { baseEnv, ensureBuilt, repoRoot } from "../../test/support/process.js";

const cliJs = path.join(repoRoot, "dist", "src", "cli", "main.js");

describe("bellwether | head", () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it("exits quietly with status 0 when the reader of its stdout has gone (EPIPE)", async () => {
    const child = spawn(process.execPath, [cliJs, "help"], {
      cwd: repoRoot,
      env: baseEnv({ REDIS_URL: "redis://127.0.0.1:1" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy(); // the reader is gone before the first line is written
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once("close", (c, s) => resolve([c, s])),
    );
    expect({ code, signal, err }).toEqual({ code: 0, signal: null, err: "" });
  });
});
