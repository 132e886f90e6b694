import { createHttpApp } from "../src/app/server.js";
import type { JobDefinition } from "../src/domain/jobs/job.js";
import { bareBullmq } from "./bare-bullmq.js";
import { addBareFrames, bareClaimComplete, drain, farmClaimComplete } from "./claim-loops.js";
import {
  type BenchFarm,
  createBenchFarm,
  listen,
  type Measured,
  measure,
  printTable,
  withMemoryPeak,
} from "./support.js";

/**
 * The scheduling core against bare BullMQ, on the same Redis in the same run:
 * - a job of FRAMES frames claimed and completed through the domain's scheduling interface
 *   (`farm.work.claim` + `farm.work.complete`, no HTTP) from 1 and from 16 concurrent loops, one
 *   frame per claim (as SheepIt clients take them) and ten per claim (a Flamenco chunk);
 * - the same number of plain BullMQ jobs through a bare manual-mode loop (`Worker.getNextJob` +
 *   `job.moveToCompleted`) from 1 and 16 loops: the baseline the ratios are against (and the same
 *   with prioritized jobs, which is how the farm stores frames);
 * - the submission of a BIG-frame job: wall time, CPU of both sides, and peak memory.
 * BENCH_FRAMES and BENCH_BIG_FRAMES override the sizes.
 */

const FRAMES = Number(process.env.BENCH_FRAMES ?? 20_000);
const BIG = Number(process.env.BENCH_BIG_FRAMES ?? 100_000);
const LOOPS = [1, 16];
const LEASE_MS = 30 * 60_000;

export function benchJob(storageRoot: string, frames: number, chunk: number): JobDefinition {
  return {
    type: "simple-blender-render",
    name: `bench ${frames} frames`,
    priority: 50,
    settings: {
      blender_cmd: "{blender}",
      filepath: `${storageRoot}/bench/scene.blend`,
      render_output: `${storageRoot}/bench/frames/######`,
      frames: `1-${frames}`,
      chunk_size: chunk,
      fps: 24,
      extract_audio: false,
      images_or_video: "images",
      format: "PNG",
      output_file_extension: ".png",
    },
    metadata: {},
  };
}

interface Row {
  what: string;
  loops: number;
  m: Measured<number>;
}

async function farmRound(loops: number, maxFrames: number): Promise<Row> {
  const bf = createBenchFarm(`sched-${loops}x${maxFrames}`);
  try {
    const job = await bf.farm.jobs.submit(benchJob(bf.storageRoot, FRAMES, maxFrames));
    await allFramesInLine(bf, job.id, FRAMES);
    const m = await measure(bf.redis, () => drain(loops, FRAMES, farmClaimComplete(bf.farm, maxFrames, LEASE_MS)));
    const done = await bf.farm.jobs.get(job.id);
    if (done.completedFrames !== FRAMES) throw new Error(`completed ${done.completedFrames} of ${FRAMES} frames`);
    return { what: `farm.work claim+complete, ${maxFrames} frame${maxFrames > 1 ? "s" : ""}/claim`, loops, m };
  } finally {
    await bf.close();
  }
}

async function bareRound(loops: number, prioritized: boolean): Promise<Row> {
  const bare = bareBullmq("bench-bare", LEASE_MS);
  const { queue, worker, redis } = bare;
  try {
    await addBareFrames(queue, FRAMES, prioritized);
    const m = await measure(redis, () => drain(loops, FRAMES, bareClaimComplete(worker, loops)));
    return { what: `bare BullMQ getNextJob+moveToCompleted${prioritized ? ", prioritized" : ""}`, loops, m };
  } finally {
    await bare.close();
  }
}

/** Waits until the job's frames are all waiting in its queue (submission may leave some to follow). */
async function allFramesInLine(bf: BenchFarm, jobId: string, frames: number): Promise<number> {
  const started = performance.now();
  const queue = bf.farm.scheduler.queues.queue(jobId);
  for (;;) {
    const c = await queue.getJobCounts("wait", "prioritized", "active", "completed");
    // Frames past the materialisation cursor are in line too (the claims materialise them).
    const [enq, total] = (await bf.redis.hmget(bf.farm.keys.schedJob(jobId), "enq", "total")).map(Number);
    const later = Math.max(0, (total as number) - (enq as number)) || 0;
    const n = (c.wait ?? 0) + (c.prioritized ?? 0) + (c.active ?? 0) + later;
    if (n + (c.completed ?? 0) >= frames) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface SubmissionRow {
  via: string;
  frames: number;
  answeredMs: number;
  /** Until every frame is in line. */
  m: Measured<number>;
  memory: Awaited<ReturnType<typeof withMemoryPeak>>["memory"];
}

async function submission(frames: number, via: "service" | "http"): Promise<SubmissionRow> {
  const bf = createBenchFarm(`submit-${via}`);
  const server = via === "http" ? await listen(createHttpApp(bf.farm).fetch) : undefined;
  try {
    const def = benchJob(bf.storageRoot, frames, 10);
    const submit = async () => {
      if (!server) return (await bf.farm.jobs.submit(def)).id;
      const res = await fetch(`${server.url}/api/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(def),
      });
      const body = (await res.json()) as { id?: string; message?: string };
      if (res.status !== 200 || !body.id) throw new Error(`POST /api/jobs: ${res.status} ${body.message}`);
      return body.id;
    };
    // CPU and memory count until every frame is in line, the background part of the work included.
    const { value: m, memory } = await withMemoryPeak(() =>
      measure(bf.redis, async () => {
        const started = performance.now();
        const id = await submit();
        const answeredMs = performance.now() - started;
        await allFramesInLine(bf, id, frames);
        return answeredMs;
      }),
    );
    return {
      via: server ? "HTTP POST /api/jobs" : "JobService.submit",
      frames,
      answeredMs: m.value,
      m,
      memory,
    };
  } finally {
    await server?.close();
    await bf.close();
  }
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  for (const loops of LOOPS) {
    rows.push(await bareRound(loops, false));
    rows.push(await bareRound(loops, true));
    rows.push(await farmRound(loops, 1));
    rows.push(await farmRound(loops, 10));
  }
  const rate = (r: Row) => (r.m.value / r.m.wallMs) * 1000;
  const baseline = new Map(
    rows.filter((r) => r.what === "bare BullMQ getNextJob+moveToCompleted").map((r) => [r.loops, rate(r)]),
  );
  printTable(
    `Claim and complete ${FRAMES.toLocaleString("en-US")} frames (ratio: frames/s against the bare BullMQ loop with as many loops)`,
    ["what", "loops", "frames/s", "ratio", "node CPU µs/frame", "Redis CPU µs/frame"],
    rows.map((r) => [
      r.what,
      r.loops,
      rate(r),
      rate(r) / (baseline.get(r.loops) ?? Number.NaN),
      (r.m.nodeCpuMs * 1000) / r.m.value,
      (r.m.redisCpuMs * 1000) / r.m.value,
    ]),
  );

  const subs: SubmissionRow[] = [];
  subs.push(await submission(Math.min(10_000, BIG), "service"));
  subs.push(await submission(BIG, "service"));
  subs.push(await submission(BIG, "http"));
  printTable(
    "Submitting one job (chunk_size 10): answer time, time until every frame is claimable, CPU, memory of this process",
    [
      "via",
      "frames",
      "answered s",
      "all in line s",
      "node CPU s",
      "Redis CPU s",
      "RSS before MB",
      "RSS peak MB",
      "heap before MB",
      "heap peak MB",
    ],
    subs.map((s) => [
      s.via,
      s.frames,
      s.answeredMs / 1000,
      s.m.wallMs / 1000,
      s.m.nodeCpuMs / 1000,
      s.m.redisCpuMs / 1000,
      s.memory.rssBeforeMb,
      s.memory.rssPeakMb,
      s.memory.heapBeforeMb,
      s.memory.heapPeakMb,
    ]),
  );
}
