#!/usr/bin/env node
import fs from "node:fs";
import { FlamencoWorkerSim, type SimCredentials } from "../test/simulators/flamenco-worker.js";

/**
 * A simulated Flamenco worker as a process (test/simulators/flamenco-worker.ts):
 *
 *   node dist/tools/flamenco-worker-sim.js --url http://127.0.0.1:8080 [--nickname NAME]
 *     [--platform linux|windows|darwin] [--task-types blender,ffmpeg,misc] [--render-ms N]
 *     [--credentials FILE] [--no-files] [--real]
 *
 * `--credentials FILE` keeps the worker's UUID and secret between runs (registers only once).
 * SIGINT or SIGTERM: signs off and exits 0. Prints one line per state change and task.
 */

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const url = flag("url");
  if (!url) {
    process.stderr.write(
      "usage: flamenco-worker-sim --url <manager url> [--nickname N] [--platform P] [--task-types a,b] [--render-ms N] [--credentials FILE] [--no-files] [--real]\n",
    );
    return 2;
  }
  const credFile = flag("credentials");
  const credentials =
    credFile && fs.existsSync(credFile) ? (JSON.parse(fs.readFileSync(credFile, "utf8")) as SimCredentials) : undefined;
  const sim = new FlamencoWorkerSim({
    url,
    ...(flag("nickname") ? { nickname: flag("nickname") as string } : {}),
    ...(flag("platform") ? { platform: flag("platform") as string } : {}),
    ...(flag("task-types") ? { taskTypes: (flag("task-types") as string).split(",") } : {}),
    ...(credentials ? { credentials } : {}),
    renderDelayMs: Number(flag("render-ms") ?? 1000),
    writeFiles: !process.argv.includes("--no-files"),
    // --real: run blender-render and frames-to-video with the real Blender and ffmpeg.
    realExec: process.argv.includes("--real"),
  });
  await sim.start();
  if (credFile) fs.writeFileSync(credFile, `${JSON.stringify(sim.credentials)}\n`, { mode: 0o600 });
  process.stdout.write(`worker ${sim.credentials?.id} signed on as ${sim.nickname}\n`);

  let seenStates = 0;
  let seenTasks = 0;
  const report = setInterval(() => {
    for (; seenStates < sim.states.length; seenStates++) process.stdout.write(`state ${sim.states[seenStates]}\n`);
    for (; seenTasks < sim.tasks.length; seenTasks++) {
      const t = sim.tasks[seenTasks];
      if (t) process.stdout.write(`task ${t.task.uuid} ${t.task.name}\n`);
    }
  }, 50);
  let signalled = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      signalled = true;
      void sim.stop().then(resolve, resolve);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    // Told to go offline by the Manager: the worker signed off by itself.
    void sim.finished().then(() => {
      if (!signalled) resolve();
    });
  });
  await stopped;
  clearInterval(report);
  process.stdout.write(`signed off (${sim.tasks.length} tasks)\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`flamenco-worker-sim: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
