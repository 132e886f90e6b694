import { spawn } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, repoRoot } from "../../test/support/process.js";

/**
 * The gateway's batched stdout (batchedStdout), in a process of its own: every line reaches the
 * pipe whether the process exits, crashes or idles, and a secret given to a log call never does.
 */
const loggerJs = pathToFileURL(path.join(repoRoot, "dist", "src", "app", "logger.js")).href;

function run(
  how: "exit" | "throw" | "idle",
): Promise<{ lines: Array<Record<string, unknown>>; lastLineBeforeCloseMs: number; code: number | null }> {
  const script = `
import { batchedStdout, createLogger } from ${JSON.stringify(loggerJs)};
const log = createLogger("info", batchedStdout(50));
for (let i = 0; i < 300; i++) log.info({ i, secret: "hunter2" }, "line");
if (${JSON.stringify(how)} === "exit") process.exit(3);
if (${JSON.stringify(how)} === "throw") setTimeout(() => { throw new Error("boom"); }, 0);
if (${JSON.stringify(how)} === "idle") { log.info({ i: 300 }, "line"); setTimeout(() => process.exit(0), 1500); }
`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let lastLineAt = Number.NaN;
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    if (Number.isNaN(lastLineAt) && out.includes('"i":300')) lastLineAt = performance.now();
  });
  return new Promise((resolve) =>
    child.on("close", (code) =>
      resolve({
        lines: out
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
        lastLineBeforeCloseMs: performance.now() - lastLineAt,
        code,
      }),
    ),
  );
}

beforeAll(() => ensureBuilt());

describe("batchedStdout", () => {
  it("writes every line before the process exits, in order, secrets redacted", async () => {
    const r = await run("exit");
    expect(r.code).toBe(3);
    expect(r.lines.map((l) => l.i)).toEqual([...Array(300).keys()]);
    expect(JSON.stringify(r.lines)).not.toContain("hunter2");
  });

  it("writes every line before a crash takes the process down", async () => {
    const r = await run("throw");
    expect(r.code).not.toBe(0);
    expect(r.lines).toHaveLength(300);
  });

  it("writes a line within its flush interval while the process idles", async () => {
    const r = await run("idle");
    expect(r.lines).toHaveLength(301);
    // The last line (well under 4 KB waiting) is out long before the process exits, 1.5 s after it.
    expect(r.lastLineBeforeCloseMs).toBeGreaterThan(1_000);
  });
});
