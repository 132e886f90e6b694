import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { connectRedis } from "../adapters/redis/connection.js";
import { FrameList } from "../src/domain/jobs/frame-range.js";
import { benchJob } from "./scheduler.js";
import { benchRedisUrl, createBenchFarm, deleteKeys, printTable } from "./support.js";

/**
 * Redis memory and fill time of one big job (BENCH_MEMORY_FRAMES, default 1,000,000 frames), the
 * two designs in the same run on the same Redis:
 * - all at once (the design before the frame window, main at c90a4dd): one BullMQ job per frame,
 *   put in line by bulk adds of 2,000 (`Queue.addBulk`, the same name, data and options as the
 *   fill had, and its per-batch state check and `enq` mark), timed until every frame is in line;
 * - lazy (the frame window): `JobService.submit` of the job, which materialises the first
 *   FRAME_WINDOW frames and a cursor over the frame list; the claims materialise the rest as they
 *   go. Then DRAIN frames are claimed and completed one per claim, to show the window keeps up.
 * Bytes per frame are Redis `used_memory` (INFO memory) after minus before, over the job's frames;
 * one frame's BullMQ job is also weighed alone (MEMORY USAGE of its hash).
 */

const FRAMES = Number(process.env.BENCH_MEMORY_FRAMES ?? 1_000_000);
const DRAIN = Number(process.env.BENCH_MEMORY_DRAIN ?? 20_000);
const BATCH = 2000;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info("memory");
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
}

async function keyCount(redis: Redis): Promise<number> {
  return redis.dbsize();
}

interface Row {
  design: string;
  frames: number;
  answeredS: number;
  inLineS: number;
  bytes: number;
  keys: number;
  frameHashBytes: number;
}

/** The fill as it was: every frame a BullMQ job, bulk batches, until all are in line. */
async function allAtOnce(): Promise<Row> {
  const redis = connectRedis(benchRedisUrl());
  const prefix = `bench-memory-${randomUUID().slice(0, 8)}`;
  const root = `{${prefix}}`;
  const jobId = randomUUID();
  const queue = new Queue(`job-${jobId}`, { connection: redis, prefix: root, skipVersionCheck: true });
  const frames = FrameList.parse(`1-${FRAMES}`);
  const opts = { attempts: 3, removeOnComplete: true, removeOnFail: false };
  try {
    const beforeMem = await usedMemory(redis);
    const beforeKeys = await keyCount(redis);
    const started = performance.now();
    let answered = 0;
    for (let start = 0; start < FRAMES; start += BATCH) {
      const end = Math.min(FRAMES, start + BATCH);
      const indices = Array.from({ length: end - start }, (_, k) => start + k);
      const states = await redis.hmget(`${root}:job:${jobId}:frames`, ...indices.map(String));
      const fresh = indices.filter((_, k) => states[k] === null);
      await queue.addBulk(
        fresh.map((i) => ({
          name: "frame",
          data: { i, f: frames.frameAt(i) },
          opts: { ...opts, jobId: `f${i}`, priority: i + 1 },
        })),
      );
      await redis.hset(`${root}:sched:${jobId}`, "enq", end);
      // The job was answered after its first batch (`enqueueFirst`); the rest was the background.
      if (start === 0) answered = performance.now() - started;
    }
    const inLine = performance.now() - started;
    const frameHashBytes = Number(await redis.memory("USAGE", `${root}:job-${jobId}:f${Math.floor(FRAMES / 2)}`)) || 0;
    return {
      design: "all at once (one BullMQ job per frame, before)",
      frames: FRAMES,
      answeredS: answered / 1000,
      inLineS: inLine / 1000,
      bytes: (await usedMemory(redis)) - beforeMem,
      keys: (await keyCount(redis)) - beforeKeys,
      frameHashBytes,
    };
  } finally {
    await queue.close();
    await deleteKeys(redis, prefix);
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** The frame window: submit, weigh, then claim and complete DRAIN frames through the window. */
async function lazy(): Promise<{ row: Row; drainRate: number; window: number }> {
  const window = process.env.FRAME_WINDOW ?? "1000";
  const bf = createBenchFarm("memory-lazy", { MAX_JOB_FRAMES: String(Math.max(FRAMES, 1)), FRAME_WINDOW: window });
  try {
    await bf.farm.ready();
    const beforeMem = await usedMemory(bf.redis);
    const beforeKeys = await keyCount(bf.redis);
    const started = performance.now();
    const job = await bf.farm.jobs.submit(benchJob(bf.storageRoot, FRAMES, 1));
    const answered = performance.now() - started;
    const bytes = (await usedMemory(bf.redis)) - beforeMem;
    const keys = (await keyCount(bf.redis)) - beforeKeys;
    const frameHashBytes = Number(await bf.redis.memory("USAGE", bf.farm.keys.bull(job.id, "f500"))) || 0;
    const drainStarted = performance.now();
    let done = 0;
    let expected = 1;
    while (done < DRAIN) {
      const got = await bf.farm.work.claim({
        caps: { sessionId: "bench", taskTypes: ["blender"], device: "any" },
        maxFrames: 1,
        leaseMs: 30 * 60_000,
      });
      if (!got) throw new Error(`no frame after ${done} of ${DRAIN}`);
      if (got.lease.frames[0] !== expected) throw new Error(`frame ${got.lease.frames[0]}, expected ${expected}`);
      expected++;
      await bf.farm.work.complete(got.lease.id, "bench");
      done++;
    }
    const drainRate = (DRAIN / (performance.now() - drainStarted)) * 1000;
    return {
      row: {
        design: "lazy (frame window + cursor)",
        frames: FRAMES,
        answeredS: answered / 1000,
        inLineS: answered / 1000,
        bytes,
        keys,
        frameHashBytes,
      },
      drainRate,
      window: Number(window),
    };
  } finally {
    await bf.close();
  }
}

export async function run(): Promise<void> {
  const before = await allAtOnce();
  const after = await lazy();
  const rows = [before, after.row];
  printTable(
    `One ${FRAMES.toLocaleString("en-US")}-frame job: Redis memory (INFO used_memory after - before) and time until every frame is claimable`,
    ["design", "frames", "answered s", "all claimable s", "Redis MB", "bytes/frame", "keys", "one frame hash B"],
    rows.map((r) => [
      r.design,
      r.frames,
      r.answeredS,
      r.inLineS,
      r.bytes / 2 ** 20,
      r.bytes / r.frames,
      r.keys,
      r.frameHashBytes,
    ]),
  );
  printTable(
    `Lazy job, then ${DRAIN.toLocaleString("en-US")} one-frame claims + completions through the window (FRAME_WINDOW ${after.window}), every frame in order`,
    ["frames/s", "Redis bytes ratio (lazy / all at once)", "time-to-claimable ratio"],
    [
      [
        after.drainRate,
        (after.row.bytes / before.bytes).toPrecision(2),
        (after.row.inLineS / before.inLineS).toPrecision(2),
      ],
    ],
  );
}
