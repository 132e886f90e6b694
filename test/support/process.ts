import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is test/support/process.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The built gateway entry point, as `npm start` runs it. */
export const mainJs = path.join(repoRoot, "dist", "src", "app", "main.js");

const SOURCE_DIRS = ["src", "adapters", "contracts"];

function newestSourceMtime(dir: string): number {
  let newest = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
      newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Makes sure dist/ holds a build of the current sources (a fresh clone has one: `npm ci` runs
 * `prepare` = build). Builds with `tsc -p tsconfig.build.json` only when dist is missing or older
 * than a source file. A type error elsewhere does not stop tsc from emitting, so the build counts
 * as usable when the entry point is there and fresh afterwards.
 */
export function ensureBuilt(): void {
  const sources = Math.max(...SOURCE_DIRS.map((d) => newestSourceMtime(path.join(repoRoot, d))));
  if (fs.existsSync(mainJs) && fs.statSync(mainJs).mtimeMs >= sources) return;
  const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
  const res = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: repoRoot, encoding: "utf8" });
  if (!fs.existsSync(mainJs)) {
    throw new Error(`could not build ${mainJs}:\n${res.stdout}\n${res.stderr}`);
  }
}

/** A gateway running as its own OS process (`node dist/src/app/main.js`). */
export interface GatewayProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal) once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops it if still running (SIGKILL after `graceMs`). */
  kill(graceMs?: number): Promise<void>;
}

/**
 * Spawns the built gateway with exactly `env` (plus nothing of this process's environment but
 * what is passed). `node` is this process's own executable, so PATH may leave it out.
 */
export function spawnGateway(env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, [mainJs], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      // Let the pipes drain before anyone reads the output.
      child.once("close", () => resolve({ code, signal }));
      setTimeout(() => resolve({ code, signal }), 1000).unref();
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async kill(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A minimal environment for a child process: no REDIS_URL and friends leaking from the suite's. */
export function baseEnv(more: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["HOME", "TMPDIR", "LANG", "TZ"]) {
    const v = process.env[key];
    if (v !== undefined) env[key] = v;
  }
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env, ...more };
}
