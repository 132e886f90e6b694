import { randomUUID } from "node:crypto";
import { FrameList } from "../../src/domain/jobs/frame-range.js";
import type { Job } from "../../src/domain/jobs/job.js";
import { type FrameData, frameId } from "./frame-ids.js";
import type { SchedulerContext } from "./scheduler-context.js";

/**
 * Puts a job's frames in line as BullMQ jobs: the first ones before `enqueue` returns, the rest in
 * the background, in bulk batches, so a job of any size is answered at once with flat memory.
 * `enq` in the job's scheduling hash marks how far the frames are in line; a fill this process
 * does not finish (it stops, or the job is paused) is resumed by `resume` (the sweep) in any
 * process, under a short lock.
 */
export class FrameFill {
  private readonly enqueueBatch: number;
  private readonly enqueueFirst: number;
  /** Background fills this process runs, by job id. */
  private readonly filling = new Map<string, Promise<void>>();

  constructor(private readonly ctx: SchedulerContext) {
    this.enqueueBatch = ctx.opts.enqueueBatch ?? 2000;
    this.enqueueFirst = ctx.opts.enqueueFirst ?? this.enqueueBatch;
  }

  /** Frames per bulk add (requeue uses the same batches). */
  get batch(): number {
    return this.enqueueBatch;
  }

  async enqueue(job: Job, frames: FrameList): Promise<void> {
    const { redis, keys } = this.ctx;
    await redis.hset(keys.schedJob(job.id), {
      tasktype: job.taskType,
      phase: "render",
      device: job.needs.device,
      ram: job.needs.ramKb,
      vram: job.needs.vramBytes,
      time: job.needs.renderSeconds,
      enq: 0,
      total: frames.length,
    });
    const first = Math.min(frames.length, this.enqueueFirst);
    await this.addFrames(job.id, frames, 0, first);
    if (first < frames.length) await redis.sadd(keys.filling(), job.id);
    await this.ctx.setRunnable(job.id, true);
    if (first < frames.length) this.fillInBackground(job.id, frames);
  }

  /** Resolves when this process's background fill of the job (if any) has stopped. */
  async filled(jobId: string): Promise<void> {
    await this.filling.get(jobId);
  }

  /** Resumes the fill of up to `count` jobs whose frames are not all in line. */
  async resume(count: number): Promise<void> {
    const filling = await this.ctx.redis.srandmember(this.ctx.keys.filling(), count);
    for (const id of filling) this.fillInBackground(id);
  }

  /** Resolves when every background fill of this process has stopped (call after `closing` is set). */
  async close(): Promise<void> {
    await Promise.all(this.filling.values());
  }

  /**
   * Adds frames [from, to) in bulk batches, skipping frames that already have a state (put in
   * line before, by a fill that stopped before it could mark them), and marks `enq` after each
   * batch. `keepGoing` is asked before each batch; the fill stops when it says no.
   */
  private async addFrames(
    jobId: string,
    frames: FrameList,
    from: number,
    to: number,
    keepGoing: () => Promise<boolean> = async () => true,
  ): Promise<number> {
    const { redis, keys } = this.ctx;
    const queue = this.ctx.queues.queue(jobId);
    const opts = { attempts: this.ctx.opts.taskFailWorkers, removeOnComplete: true, removeOnFail: false };
    let start = from;
    while (start < to) {
      if (!(await keepGoing())) break;
      const end = Math.min(to, start + this.enqueueBatch);
      const indices = Array.from({ length: end - start }, (_, k) => start + k);
      const states = await redis.hmget(keys.frameStates(jobId), ...indices.map(String));
      const fresh = indices.filter((_, k) => states[k] === null);
      if (fresh.length > 0) {
        await queue.addBulk(
          fresh.map((i) => ({
            name: "frame",
            data: { i, f: frames.frameAt(i) } satisfies FrameData,
            opts: { ...opts, jobId: frameId(i), priority: i + 1 },
          })),
        );
        await this.ctx.markReady(jobId);
      }
      await redis.hset(keys.schedJob(jobId), "enq", end);
      start = end;
    }
    return start;
  }

  /**
   * Puts the rest of a job's frames in line, from its `enq` mark, unless another process already
   * does. Stops when this scheduler closes, the job is no longer runnable or gone, or the lock is
   * lost; `resume` resumes it later.
   */
  private fillInBackground(jobId: string, known?: FrameList): void {
    const { redis, keys, logger } = this.ctx;
    if (this.filling.has(jobId) || this.ctx.closing) return;
    const lock = keys.fillLock(jobId);
    const token = randomUUID();
    const lockMs = 60_000;
    const run = async () => {
      if ((await redis.set(lock, token, "PX", lockMs, "NX")) !== "OK") return;
      try {
        const [enq, total] = (await redis.hmget(keys.schedJob(jobId), "enq", "total")).map(Number);
        if (!Number.isFinite(enq) || !Number.isFinite(total) || (enq as number) >= (total as number)) {
          await redis.srem(keys.filling(), jobId);
          return;
        }
        const frames = known ?? (await this.frameList(jobId));
        if (!frames) return;
        const keepGoing = async () => {
          if (this.ctx.closing) return false;
          const [[, held] = [], [, runnable] = []] =
            (await redis
              .multi()
              .eval(
                "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
                1,
                lock,
                token,
                lockMs,
              )
              .zscore(keys.runnable(), jobId)
              .exec()) ?? [];
          return held === 1 && runnable !== null;
        };
        const reached = await this.addFrames(jobId, frames, enq as number, total as number, keepGoing);
        if (reached >= (total as number)) await redis.srem(keys.filling(), jobId);
        logger.debug(
          { jobId, reached, total },
          reached >= (total as number) ? "all frames in line" : "frame fill paused",
        );
      } finally {
        await redis.eval(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
          1,
          lock,
          token,
        );
      }
    };
    const p = run()
      .catch((err) => logger.warn({ err, jobId }, "putting the job's frames in line failed; the sweep retries"))
      .finally(() => this.filling.delete(jobId));
    this.filling.set(jobId, p);
  }

  private async frameList(jobId: string): Promise<FrameList | null> {
    const runs = await this.ctx.redis.hget(this.ctx.keys.job(jobId), "runs");
    return runs ? new FrameList(JSON.parse(runs)) : null;
  }
}
