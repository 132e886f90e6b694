import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/**
 * Runs what the gateway hands out for real, as the real clients do (used by the simulators'
 * real-execution modes and test/real-render.test.ts):
 * - Flamenco `blender-render`: `exe argsBefore… blendfile args…`;
 * - Flamenco `frames-to-video` (Linux): `exe argsBefore… -pattern_type glob -i <inputGlob> args… <outputFile>`;
 * Node's own modules only: tools/flamenco-worker-sim.ts is compiled on its own with it.
 */

export interface ExecResult {
  code: number;
  /** The last lines of its stdout and stderr. */
  output: string;
}

/** Runs a program to its end, keeping the last 40 lines of its output. */
export function run(exe: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ExecResult> {
  return new Promise((resolve) => {
    let out = "";
    const child = spawn(exe, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (d: Buffer) => {
      out = (out + d.toString("utf8")).split("\n").slice(-40).join("\n");
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("error", (err) => resolve({ code: 127, output: `${exe}: ${err.message}` }));
    child.once("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output: out }));
  });
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** The words a Flamenco worker runs for a `blender-render` command. */
export function blenderRenderArgv(p: Record<string, unknown>): [string, string[]] {
  return [String(p.exe), [...strings(p.argsBefore), String(p.blendfile), ...strings(p.args)]];
}

/** The words a Flamenco worker on Linux runs for a `frames-to-video` command. */
export function framesToVideoArgv(p: Record<string, unknown>): [string, string[]] {
  return [
    String(p.exe),
    [
      ...strings(p.argsBefore),
      "-pattern_type",
      "glob",
      "-i",
      String(p.inputGlob),
      ...strings(p.args),
      String(p.outputFile),
    ],
  ];
}

/** Runs a Flamenco command for real; answers an error message, or null when it succeeded. */
export async function execFlamencoCommand(
  name: string,
  p: Record<string, unknown>,
  log: (text: string) => Promise<void>,
): Promise<string | null> {
  const [exe, args] = name === "blender-render" ? blenderRenderArgv(p) : framesToVideoArgv(p);
  if (name === "frames-to-video") fs.mkdirSync(path.dirname(String(p.outputFile)), { recursive: true });
  await log(`running: ${[exe, ...args].join(" ")}`);
  const res = await run(exe, args);
  await log(res.output);
  return res.code === 0
    ? null
    : `${name}: ${exe} exited with ${res.code}: ${res.output.split("\n").slice(-8).join(" | ")}`;
}
