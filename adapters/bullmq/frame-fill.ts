import { FrameList } from "../../src/domain/jobs/frame-range.js";
import type { Job } from "../../src/domain/jobs/job.js";
import { topUpFrames } from "./frame-window-script.js";
import type { SchedulerContext } from "./scheduler-context.js";

/** Frames of a job materialised ahead of the claims when the options do not say. */
export const DEFAULT_FRAME_WINDOW = 1000;

export function frameWindowOf(ctx: SchedulerContext): number {
  return Math.max(1, ctx.opts.frameWindow ?? DEFAULT_FRAME_WINDOW);
}

/** Runs of the frame list written per command (a frame list of many single frames is many runs). */
const RUNS_PER_WRITE = 5000;

/**
 * Puts a job's frames in line lazily: `enqueue` writes the job's frame list as runs and a cursor
 * (`enq`, `enqrun`) and materialises the first window of frames as BullMQ jobs; the claim script
 * tops the window up as frames go out (frame-window-script.ts), so a job of any size is answered
 * at once and costs Redis a window of BullMQ jobs, not one per frame. The sweep (`resume`) tops up
 * runnable jobs whose frames are not all materialised, and writes the runs of a job enqueued
 * before the runs existed (its cursor, `enq`, was the old background fill's mark).
 */
export class FrameFill {
  private readonly window: number;
  /** Top-ups this process runs, by job id. */
  private readonly filling = new Map<string, Promise<void>>();

  constructor(private readonly ctx: SchedulerContext) {
    this.window = frameWindowOf(ctx);
  }

  async enqueue(job: Job, frames: FrameList): Promise<void> {
    const { redis, keys } = this.ctx;
    await this.writeRuns(job.id, frames);
    await redis.hset(keys.schedJob(job.id), {
      tasktype: job.taskType,
      phase: "render",
      device: job.needs.device,
      ram: job.needs.ramKb,
      vram: job.needs.vramBytes,
      time: job.needs.renderSeconds,
      enq: 0,
      enqrun: 0,
      total: frames.length,
    });
    if (frames.length > this.window) await redis.sadd(keys.filling(), job.id);
    await this.topUp(job.id, false);
    await this.ctx.setRunnable(job.id, true);
  }

  /** Resolves when this process's top-up of the job (if any) has stopped. */
  async filled(jobId: string): Promise<void> {
    await this.filling.get(jobId);
  }

  /** Tops up up to `count` runnable jobs whose frames are not all materialised. */
  async resume(count: number): Promise<void> {
    const ids = await this.ctx.redis.srandmember(this.ctx.keys.filling(), count);
    for (const id of ids) {
      if (this.filling.has(id) || this.ctx.closing) continue;
      const p = this.resumeOne(id)
        .catch((err) =>
          this.ctx.logger.warn({ err, jobId: id }, "topping up the job's frames failed; the sweep retries"),
        )
        .finally(() => this.filling.delete(id));
      this.filling.set(id, p);
    }
  }

  /** Resolves when every top-up of this process has stopped (call after `closing` is set). */
  async close(): Promise<void> {
    await Promise.all(this.filling.values());
  }

  private async resumeOne(jobId: string): Promise<void> {
    const { redis, keys } = this.ctx;
    const [enq, total, enqrun] = await redis.hmget(keys.schedJob(jobId), "enq", "total", "enqrun");
    if (enq === null || total === null || Number(enq) >= Number(total)) {
      await redis.srem(keys.filling(), jobId);
      return;
    }
    if (enqrun === null) {
      // A job enqueued before the frame window: its cursor is the old fill's mark.
      const runs = await redis.hget(keys.job(jobId), "runs");
      if (!runs) return;
      const frames = new FrameList(JSON.parse(runs));
      await this.writeRuns(jobId, frames);
      await redis.hset(keys.schedJob(jobId), "enqrun", runOfIndex(frames, Number(enq)));
    }
    await this.topUp(jobId, true);
  }

  private async topUp(jobId: string, onlyRunnable: boolean): Promise<void> {
    const { keys } = this.ctx;
    await topUpFrames.run(
      this.ctx.redis,
      [keys.runnable()],
      [keys.root, jobId, 0, this.window, this.ctx.opts.taskFailWorkers, Date.now(), onlyRunnable ? 1 : 0],
    );
    await this.ctx.markReady(jobId);
  }

  /** Writes the frame list's runs, `first,last,offset` by run number (idempotent). */
  private async writeRuns(jobId: string, frames: FrameList): Promise<void> {
    const key = this.ctx.keys.schedRuns(jobId);
    let offset = 0;
    for (let start = 0; start < frames.runs.length; start += RUNS_PER_WRITE) {
      const fields: Record<string, string> = {};
      frames.runs.slice(start, start + RUNS_PER_WRITE).forEach(([a, b], k) => {
        fields[String(start + k)] = `${a},${b},${offset}`;
        offset += b - a + 1;
      });
      await this.ctx.redis.hset(key, fields);
    }
  }
}

/** The number of the run that holds frame index `index` (the last run past the end). */
function runOfIndex(frames: FrameList, index: number): number {
  let start = 0;
  for (let k = 0; k < frames.runs.length; k++) {
    const [a, b] = frames.runs[k] as readonly [number, number];
    start += b - a + 1;
    if (index < start) return k;
  }
  return Math.max(0, frames.runs.length - 1);
}
