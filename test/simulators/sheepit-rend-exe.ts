import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { JobOffer } from "./sheepit-job-offer.js";
import { BadServerResponse } from "./sheepit-xml.js";

export interface RenderedFrame {
  job: JobOffer;
  file: string;
  renderSeconds: number;
}

export class RenderFailed extends Error {
  override name = "RenderFailed";
  constructor(
    readonly type: number,
    message: string,
    readonly job: JobOffer,
  ) {
    super(message);
  }
}

/**
 * Runs the renderer's `rend.exe` on the unpacked project as the Java client does: the command line
 * split on spaces, `.e` `.c` `.o` `.f` replaced; the frame is the file it wrote into `workDir`.
 */
export async function runRendExe(
  job: JobOffer,
  rendDir: string,
  unpacked: string,
  workDir: string,
  renderEnv: Record<string, string> | undefined,
  started: number,
): Promise<RenderedFrame> {
  const script = path.join(workDir, "script.py");
  fs.writeFileSync(script, `${job.script}\nsheepit_set_compute_device("NONE", "CPU", "CPU")\n`);
  const args: string[] = [];
  let exe = "";
  for (const part of job.renderer.commandline.split(" ")) {
    if (part === ".e") exe = path.join(rendDir, "rend.exe");
    else if (part === ".c") args.push(path.join(unpacked, job.path), "-P", script);
    else if (part === ".o") args.push(path.join(workDir, `${job.id}_`));
    else if (part === ".f") args.push(job.frame);
    else args.push(part);
  }
  if (!exe) throw new BadServerResponse("the command line has no .e");
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(exe, args, { env: { ...process.env, ...renderEnv }, stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new RenderFailed(12, `rend.exe exited with ${code}`, job);
  const out = fs.readdirSync(workDir).find((f) => f.startsWith(`${job.id}_${job.frame}`));
  if (!out) throw new RenderFailed(8, "no output file", job);
  return {
    job,
    file: path.join(workDir, out),
    renderSeconds: Math.max(1, Math.round((performance.now() - started) / 1000)),
  };
}
