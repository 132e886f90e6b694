import { randomUUID } from "node:crypto";
import { Job as BullJob, UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../../src/app/logger.js";
import { FrameList } from "../../src/domain/jobs/frame-range.js";
import type { Job, JobNeeds } from "../../src/domain/jobs/job.js";
import type { ClaimRequest, CompletionResult, FailureResult, Lease } from "../../src/domain/scheduling/capabilities.js";
import type { Scheduler } from "../../src/domain/scheduling/scheduler.js";
import { failInFlightOnDisconnect } from "../redis/connection.js";
import type { Keys } from "../redis/keys.js";
import { present, readHashes } from "../redis/read-hashes.js";
import { claimWork, markReady } from "./claim-script.js";
import { JobQueues } from "./job-queues.js";
import { recordCompletion, recordFailure, recordRelease, sweepJob } from "./lease-scripts.js";
import { clearFailureLists, requeueVideo } from "./requeue-scripts.js";
import { requeueCounters, setRunnable } from "./scheduler-scripts.js";

export interface BullmqSchedulerOptions {
  /** Lock a frame gets at claim time before the lease is applied. */
  defaultLeaseMs: number;
  maxStalled: number;
  stalledIntervalMs: number;
  /** Different clients that must fail a frame before it fails for good (BullMQ attempts). */
  taskFailWorkers: number;
  /** Failures of one session within one job that blocklist it from the job. */
  blocklistThreshold: number;
  /** Jobs a claim tries to take frames from (when the first has none this session may do). */
  candidates?: number;
  /** Jobs a claim looks at, at most, in the ready index (so its cost does not grow with the jobs). */
  scanLimit?: number;
  /** Frames per bulk add when a job is enqueued. */
  enqueueBatch?: number;
  /**
   * Frames put in line before `enqueueJob` returns; a bigger job's other frames follow in the
   * background (resumed by `sweep` in any process if this one stops first).
   */
  enqueueFirst?: number;
  /** Engaged jobs the sweep looks at per run (the rest wait for the next run, oldest first). */
  sweepJobs?: number;
}

/** A frame out under a token with no active lease for this long goes back (claims in flight are younger). */
const ORPHAN_GRACE_MS = 10_000;
/** A job with nothing out and no claim for this long leaves the sweep's engaged set. */
const ENGAGED_IDLE_MS = 60_000;

/** Called when something changed a job's counters outside a client call (stalls, stall limit). */
export type ProgressListener = (jobId: string) => void;

interface FrameData {
  i: number;
  f: number;
}

const VIDEO_ID = "video";
const frameId = (index: number) => `f${index}`;
const indexOfBullId = (id: string) => (id.startsWith("f") ? Number(id.slice(1)) : -1);

/**
 * The scheduling port on BullMQ. Each farm job has a queue; each frame is a BullMQ job whose
 * priority is its index in the job's frame list, so BullMQ hands frames out in order and a frame
 * that comes back takes its old place. A claim is: one Lua call to pick the job (priority, fair
 * share, capabilities), one pipelined batch of `getNextJob` calls on that job's queue under one
 * token (the lease id), one pipelined give-back of what does not fit the run, and one Lua call to
 * record the lease. See docs/architecture.md for the round-trip count.
 */
export class BullmqScheduler implements Scheduler {
  readonly queues: JobQueues;
  private readonly listeners = new Set<ProgressListener>();
  private readonly candidates: number;
  private readonly enqueueBatch: number;
  private readonly enqueueFirst: number;
  /** Background fills this process runs, by job id. */
  private readonly filling = new Map<string, Promise<void>>();
  private closing = false;
  private readonly sweepJobs: number;
  private readonly scanLimit: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly opts: BullmqSchedulerOptions,
    private readonly logger: Logger,
  ) {
    this.candidates = opts.candidates ?? 3;
    this.enqueueBatch = opts.enqueueBatch ?? 2000;
    this.enqueueFirst = opts.enqueueFirst ?? this.enqueueBatch;
    this.sweepJobs = opts.sweepJobs ?? 200;
    this.scanLimit = opts.scanLimit ?? 256;
    // No command of the scheduler is ever sent twice by the client (see connection.ts).
    failInFlightOnDisconnect(redis);
    this.queues = new JobQueues(
      redis,
      keys,
      { lockMs: opts.defaultLeaseMs, maxStalled: opts.maxStalled, stalledIntervalMs: opts.stalledIntervalMs },
      logger,
    );
  }

  onProgress(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Puts the job's first frames in line (`enqueueFirst`, in bulk) and makes it claimable; the
   * frames after those follow in the background, in bulk batches, so a job of any size is
   * answered at once with flat memory. `enq` in the job's scheduling hash marks how far the
   * frames are in line; a fill this process does not finish (it stops, or the job is paused) is
   * resumed by `sweep` in any process, under a short lock.
   */
  async enqueueJob(job: Job, frames: FrameList): Promise<void> {
    await this.redis.hset(this.keys.schedJob(job.id), {
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
    if (first < frames.length) await this.redis.sadd(this.keys.filling(), job.id);
    await this.setRunnable(job.id, true);
    if (first < frames.length) this.fillInBackground(job.id, frames);
  }

  /** Resolves when this process's background fill of the job (if any) has stopped. */
  async filled(jobId: string): Promise<void> {
    await this.filling.get(jobId);
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
    const queue = this.queues.queue(jobId);
    const opts = { attempts: this.opts.taskFailWorkers, removeOnComplete: true, removeOnFail: false };
    let start = from;
    while (start < to) {
      if (!(await keepGoing())) break;
      const end = Math.min(to, start + this.enqueueBatch);
      const indices = Array.from({ length: end - start }, (_, k) => start + k);
      const states = await this.redis.hmget(this.keys.frameStates(jobId), ...indices.map(String));
      const fresh = indices.filter((_, k) => states[k] === null);
      if (fresh.length > 0) {
        await queue.addBulk(
          fresh.map((i) => ({
            name: "frame",
            data: { i, f: frames.frameAt(i) } satisfies FrameData,
            opts: { ...opts, jobId: frameId(i), priority: i + 1 },
          })),
        );
        await this.markReady(jobId);
      }
      await this.redis.hset(this.keys.schedJob(jobId), "enq", end);
      start = end;
    }
    return start;
  }

  /**
   * Puts the rest of a job's frames in line, from its `enq` mark, unless another process already
   * does. Stops when this scheduler closes, the job is no longer runnable or gone, or the lock is
   * lost; `sweep` resumes it later.
   */
  private fillInBackground(jobId: string, known?: FrameList): void {
    if (this.filling.has(jobId) || this.closing) return;
    const lock = this.keys.fillLock(jobId);
    const token = randomUUID();
    const lockMs = 60_000;
    const run = async () => {
      if ((await this.redis.set(lock, token, "PX", lockMs, "NX")) !== "OK") return;
      try {
        const [enq, total] = (await this.redis.hmget(this.keys.schedJob(jobId), "enq", "total")).map(Number);
        if (!Number.isFinite(enq) || !Number.isFinite(total) || (enq as number) >= (total as number)) {
          await this.redis.srem(this.keys.filling(), jobId);
          return;
        }
        const frames = known ?? (await this.frameList(jobId));
        if (!frames) return;
        const keepGoing = async () => {
          if (this.closing) return false;
          const [[, held] = [], [, runnable] = []] =
            (await this.redis
              .multi()
              .eval(
                "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
                1,
                lock,
                token,
                lockMs,
              )
              .zscore(this.keys.runnable(), jobId)
              .exec()) ?? [];
          return held === 1 && runnable !== null;
        };
        const reached = await this.addFrames(jobId, frames, enq as number, total as number, keepGoing);
        if (reached >= (total as number)) await this.redis.srem(this.keys.filling(), jobId);
        this.logger.debug(
          { jobId, reached, total },
          reached >= (total as number) ? "all frames in line" : "frame fill paused",
        );
      } finally {
        await this.redis.eval(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
          1,
          lock,
          token,
        );
      }
    };
    const p = run()
      .catch((err) => this.logger.warn({ err, jobId }, "putting the job's frames in line failed; the sweep retries"))
      .finally(() => this.filling.delete(jobId));
    this.filling.set(jobId, p);
  }

  private async frameList(jobId: string): Promise<FrameList | null> {
    const runs = await this.redis.hget(this.keys.job(jobId), "runs");
    return runs ? new FrameList(JSON.parse(runs)) : null;
  }

  async setRunnable(jobId: string, runnable: boolean): Promise<void> {
    await setRunnable.run(
      this.redis,
      [this.keys.runnable(), this.keys.served(), this.keys.job(jobId), this.keys.servedRank(), this.keys.ready()],
      [jobId, runnable ? 1 : 0],
    );
  }

  async setNeeds(jobId: string, needs: Partial<JobNeeds>): Promise<void> {
    const fields: Record<string, string | number> = {};
    if (needs.device !== undefined) fields.device = needs.device;
    if (needs.ramKb !== undefined) fields.ram = needs.ramKb;
    if (needs.vramBytes !== undefined) fields.vram = needs.vramBytes;
    if (needs.renderSeconds !== undefined) fields.time = needs.renderSeconds;
    if (Object.keys(fields).length > 0) await this.redis.hset(this.keys.schedJob(jobId), fields);
  }

  async needs(jobId: string): Promise<JobNeeds | null> {
    const [device, ram, vram, time] = await this.redis.hmget(
      this.keys.schedJob(jobId),
      "device",
      "ram",
      "vram",
      "time",
    );
    if (device === null) return null;
    return {
      device: device === "cpu" || device === "gpu" ? device : "any",
      ramKb: Number(ram) || 0,
      vramBytes: Number(vram) || 0,
      renderSeconds: Number(time) || 0,
    };
  }

  /**
   * One atomic script (`claimWork`, adapters/bullmq/claim-script.ts) picks the job, takes the
   * frames from its BullMQ queue, locks them under the lease id and records the lease: one round
   * trip, whatever the number of jobs. Frames the script set aside (stalled too often, or already
   * finished in the farm's books) are settled in BullMQ here, and the claim is tried again.
   */
  async claim(req: ClaimRequest): Promise<Lease | null> {
    for (let round = 0; round < 3; round++) {
      const got = await this.claimOnce(req);
      if (got !== "again") return got;
    }
    return null;
  }

  private async claimOnce(req: ClaimRequest): Promise<Lease | null | "again"> {
    const { caps } = req;
    const leaseId = randomUUID();
    const now = new Date();
    let raw: unknown[];
    try {
      raw = await claimWork.run<unknown[]>(
        this.redis,
        [
          this.keys.ready(),
          this.keys.runnable(),
          this.keys.served(),
          this.keys.servedRank(),
          this.keys.engaged(),
          this.keys.sessionLeases(caps.sessionId),
        ],
        [
          this.keys.root,
          caps.sessionId,
          caps.taskTypes.join(","),
          caps.device,
          caps.ramKb ?? -1,
          caps.vramBytes ?? -1,
          caps.renderSecondsMax ?? -1,
          this.candidates,
          req.maxFrames === "job-chunk" ? 0 : Math.max(1, req.maxFrames),
          leaseId,
          now.getTime(),
          now.toISOString(),
          req.leaseMs,
          this.scanLimit,
        ],
      );
    } catch (err) {
      // The answer was lost (Redis went away): the lease may or may not be recorded. Give it back
      // (this waits for Redis to answer again), or a SheepIt client, which never heard of it,
      // would keep it alive with every request.
      await this.release(leaseId, caps.sessionId).catch(() => undefined);
      throw err;
    }
    const found = Number(raw[0]) === 1;
    const aside = ((found ? raw[7] : raw[1]) ?? []) as string[];
    if (aside.length > 0) await this.settleAside(`${leaseId}:x`, aside);
    if (!found) return aside.length > 0 ? "again" : null;
    const list = (v: unknown) =>
      String(v ?? "")
        .split(",")
        .filter(Boolean)
        .map(Number);
    return {
      id: leaseId,
      jobId: String(raw[1]),
      sessionId: caps.sessionId,
      phase: raw[2] === "video" ? "video" : "render",
      frames: list(raw[4]),
      indices: list(raw[5]),
      taskType: String(raw[3] ?? "blender"),
      created: now.toISOString(),
      updated: now.toISOString(),
      leaseMs: req.leaseMs,
      state: "active",
      attempt: Number(raw[6]),
    };
  }

  /** Settles frames a claim set aside: fails those that stalled too often, finishes the others in BullMQ. */
  private async settleAside(token: string, aside: string[]): Promise<void> {
    for (const entry of aside) {
      const [jobId, bullId, letter] = entry.split("|") as [string, string, string];
      try {
        if (letter === "d") {
          const job = await BullJob.fromId(this.queues.queue(jobId), bullId);
          if (job) await this.failStalledForGood(jobId, job, token);
        } else await this.settleOrphan(jobId, bullId, token, letter);
      } catch (err) {
        this.logger.warn({ err, jobId, bullId }, "could not settle a frame set aside by a claim; the sweep retries");
      }
    }
  }

  /** Puts a runnable job (back) in the claim's ready index after frames went (back) in line. */
  private async markReady(jobId: string): Promise<void> {
    await markReady.run(this.redis, [this.keys.ready(), this.keys.runnable(), this.keys.served()], [jobId]);
  }

  async getLease(leaseId: string): Promise<Lease | null> {
    return leaseFromHash(await this.redis.hgetall(this.keys.lease(leaseId)));
  }

  async sessionLeases(sessionId: string): Promise<Lease[]> {
    const ids = await this.redis.smembers(this.keys.sessionLeases(sessionId));
    if (ids.length === 0) return [];
    const read = await readHashes(
      this.redis,
      ids.map((id) => this.keys.lease(id)),
      leaseFromHash,
    );
    const leases: Lease[] = [];
    const stale: string[] = [];
    read.forEach((lease, k) => {
      if (lease?.state === "active") leases.push(lease);
      else stale.push(ids[k] as string);
    });
    // A lease whose every frame lock ran out is lost (the frames are back in line or taken).
    const checks = this.redis.pipeline();
    for (const l of leases) for (const id of bullIds(l)) checks.get(`${this.keys.bull(l.jobId, id)}:lock`);
    const locks = ((await checks.exec()) ?? []).map(([, v]) => v);
    const held: Lease[] = [];
    let k = 0;
    for (const l of leases) {
      const n = bullIds(l).length;
      const mine = locks.slice(k, k + n).some((v) => v === l.id);
      k += n;
      if (mine) held.push(l);
      else stale.push(l.id);
    }
    if (stale.length > 0) {
      const pipe2 = this.redis.pipeline();
      pipe2.srem(this.keys.sessionLeases(sessionId), ...stale);
      for (const id of stale) {
        pipe2.eval(
          "if redis.call('HGET', KEYS[1], 'state') == 'active' then redis.call('HSET', KEYS[1], 'state', 'lost') end return 1",
          1,
          this.keys.lease(id),
        );
      }
      await pipe2.exec();
    }
    return held;
  }

  async extend(leaseId: string, sessionId: string, leaseMs: number): Promise<boolean> {
    const lease = await this.getLease(leaseId);
    if (!lease || lease.sessionId !== sessionId) return false;
    const ids = bullIds(lease);
    const failed = await this.queues.extendLocks(
      lease.jobId,
      ids,
      ids.map(() => leaseId),
      leaseMs,
    );
    if (failed.length === ids.length) return false;
    await this.redis.hset(this.keys.lease(leaseId), "updated", new Date().toISOString());
    return true;
  }

  /** Indices of the lease's frames, all of them or those of the given frame numbers. */
  private targetIndices(lease: Lease, frames?: number[]): number[] {
    if (lease.phase === "video") return [];
    const wanted = frames ? new Set(frames) : undefined;
    return lease.indices.filter((_, k) => !wanted || wanted.has(lease.frames[k] as number));
  }

  /**
   * Records the completion first (`recordCompletion`, which checks the lock itself and decides
   * which frames count), then moves those frames out of BullMQ under the lease's token. A lost
   * answer on either step leaves nothing half done: the completion is recorded once, and a frame
   * whose BullMQ step did not happen is finished by the sweep or by the next claim that meets it.
   */
  async complete(lease: Lease, frames?: number[]): Promise<CompletionResult> {
    const indices = this.targetIndices(lease, frames);
    const whole = lease.phase === "video" || indices.length === lease.indices.length;
    const bullIdsOf = lease.phase === "video" ? [VIDEO_ID] : indices.map(frameId);
    const queue = this.queues.queue(lease.jobId);
    const [res, jobs] = await Promise.all([
      this.recordCompleted(lease, "lease", whole, indices),
      Promise.all(bullIdsOf.map((id) => BullJob.fromId(queue, id))),
    ]);
    const accepted = new Set(res.accepted);
    await Promise.all(
      jobs.map((job, k) =>
        job && accepted.has(lease.phase === "video" ? "video" : String(indices[k]))
          ? job.moveToCompleted("done", lease.id, false).catch(() => undefined)
          : undefined,
      ),
    );
    if (res.just) await this.startVideoIfAny(lease.jobId);
    const frameOf = (i: number) => lease.frames[lease.indices.indexOf(i)] as number;
    const done = indices.filter((i) => accepted.has(String(i)));
    const lost = indices.filter((i) => !accepted.has(String(i)));
    return { completed: done.map(frameOf), lost: lost.map(frameOf) };
  }

  /**
   * Completes a frame of a lease that ran out, when nobody holds the frame now and BullMQ has not
   * finished it: recorded first (the script checks that no lock is on it), then its BullMQ job is
   * removed from the line. A claim that takes the frame in between finds it completed and
   * settles it (`recordClaim`). False when the frame is held by another lease, failed or gone.
   */
  async completeLate(leaseId: string, sessionId: string, frame: number): Promise<boolean> {
    const lease = await this.getLease(leaseId);
    if (!lease || lease.sessionId !== sessionId || lease.phase !== "render") return false;
    const index = lease.indices[lease.frames.indexOf(frame)];
    if (index === undefined) return false;
    const res = await this.recordCompleted(lease, "late", false, [index]);
    if (res.accepted.length === 0) return false;
    const job = await BullJob.fromId(this.queues.queue(lease.jobId), frameId(index));
    await job?.remove().catch(() => undefined);
    if (res.just) await this.startVideoIfAny(lease.jobId);
    return true;
  }

  private async recordCompleted(
    lease: Lease,
    mode: "lease" | "late",
    whole: boolean,
    indices: number[],
  ): Promise<{ just: boolean; accepted: string[] }> {
    const now = new Date();
    const res = await recordCompletion.run<Array<number | string>>(
      this.redis,
      [
        this.keys.job(lease.jobId),
        this.keys.frameStates(lease.jobId),
        this.keys.lease(lease.id),
        this.keys.sessionLeases(lease.sessionId),
      ],
      [
        lease.sessionId,
        lease.id,
        lease.phase,
        now.toISOString(),
        now.getTime(),
        this.keys.bull(lease.jobId, ""),
        mode,
        whole ? 1 : 0,
        ...indices,
      ],
    );
    return {
      just: Number(res[4]) === 1,
      accepted: String(res[5] ?? "")
        .split(",")
        .filter(Boolean),
    };
  }

  /** Adds the job's video task once all its frames completed (idempotent: a fixed BullMQ id). */
  async startVideoIfAny(jobId: string): Promise<boolean> {
    // Check and switch atomically, so only one process adds the task; the job moves to its video
    // phase before the task exists, so no render claim can take it.
    const started = await this.redis.eval(
      `local h = redis.call('HMGET', KEYS[1], 'video', 'videostate', 'total', 'completed')
      if h[1] ~= '1' or (h[2] or '') ~= '' or tonumber(h[4] or '0') < tonumber(h[3] or '0') then return 0 end
      redis.call('HSET', KEYS[1], 'videostate', 'queued')
      redis.call('HSET', KEYS[2], 'tasktype', 'ffmpeg', 'phase', 'video')
      return 1`,
      2,
      this.keys.job(jobId),
      this.keys.schedJob(jobId),
    );
    if (started !== 1) return false;
    await this.queues
      .queue(jobId)
      .add(
        "video",
        { i: -1, f: -1 },
        { jobId: VIDEO_ID, attempts: this.opts.taskFailWorkers, removeOnComplete: true, removeOnFail: false },
      );
    await this.markReady(jobId);
    return true;
  }

  /**
   * Records the failure first (`recordFailure` checks the lock and decides which frames count;
   * whether a frame fails for good follows BullMQ's attempts), then moves the frames in BullMQ
   * under the lease's token: back in line for another client, or failed. The sweep finishes a
   * BullMQ step that did not happen.
   */
  async fail(lease: Lease, reason: string, frames?: number[]): Promise<FailureResult> {
    const { id: leaseId, sessionId } = lease;
    const queue = this.queues.queue(lease.jobId);
    const indices = lease.phase === "video" ? [-1] : this.targetIndices(lease, frames);
    const jobs = await Promise.all(indices.map((i) => BullJob.fromId(queue, i < 0 ? VIDEO_ID : frameId(i))));
    const retried: number[] = [];
    const failed: number[] = [];
    jobs.forEach((job, k) => {
      if (!job) return;
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      (final ? failed : retried).push(indices[k] as number);
    });
    const res = await this.recordFailure(lease.jobId, sessionId, leaseId, lease.phase, retried, failed, "lease");
    const ok = new Set([...res.retried, ...res.failed]);
    await Promise.all(
      jobs.map((job, k) =>
        job && ok.has(String(indices[k]))
          ? job.moveToFailed(new Error(reason), leaseId, false).catch(() => undefined)
          : undefined,
      ),
    );
    if (res.retried.length > 0) await this.markReady(lease.jobId);
    const frameOf = (i: string) => lease.frames[lease.indices.indexOf(Number(i))] as number;
    return {
      retried: lease.phase === "video" ? [] : res.retried.map(frameOf),
      failed: lease.phase === "video" ? [] : res.failed.map(frameOf),
      blocklisted: res.blocklisted,
    };
  }

  private async recordFailure(
    jobId: string,
    sessionId: string,
    leaseId: string,
    phase: "render" | "video",
    retried: number[],
    failed: number[],
    mode: "lease" | "stall",
  ): Promise<{ retried: string[]; failed: string[]; blocklisted: boolean }> {
    const now = new Date();
    const video = (l: number[]) => (phase === "video" ? (l.length ? [-1] : []) : l);
    const res = await recordFailure.run<Array<number | string>>(
      this.redis,
      [
        this.keys.job(jobId),
        this.keys.frameStates(jobId),
        this.keys.lease(leaseId),
        this.keys.sessionLeases(sessionId),
        this.keys.failureCounts(jobId),
        this.keys.sessionFailedFrames(jobId, sessionId),
        this.keys.blocklist(jobId),
      ],
      [
        sessionId,
        leaseId,
        now.toISOString(),
        now.getTime(),
        this.opts.blocklistThreshold,
        video(retried).join(","),
        video(failed).join(","),
        phase,
        mode,
        this.keys.bull(jobId, ""),
      ],
    );
    const list = (v: unknown) =>
      String(v ?? "")
        .split(",")
        .filter(Boolean);
    return { blocklisted: Number(res[2]) === 1, retried: list(res[3]), failed: list(res[4]) };
  }

  /** Closes the lease first (`recordRelease`), then puts its frames back in line in BullMQ. */
  async release(leaseId: string, sessionId: string, state: "released" | "canceled" = "released"): Promise<void> {
    const lease = await this.getLease(leaseId);
    if (!lease || lease.sessionId !== sessionId || lease.state !== "active") return;
    await recordRelease.run(
      this.redis,
      [
        this.keys.frameStates(lease.jobId),
        this.keys.lease(leaseId),
        this.keys.sessionLeases(sessionId),
        this.keys.job(lease.jobId),
      ],
      [leaseId, new Date().toISOString(), lease.phase, state, ...lease.indices],
    );
    await Promise.all(
      bullIds(lease).map((id) => this.queues.backToWait(lease.jobId, id, leaseId).catch(() => undefined)),
    );
    await this.markReady(lease.jobId);
  }

  async releaseJob(jobId: string): Promise<number> {
    const leases = (await this.jobLeases(jobId)).filter((l) => l.state === "active");
    for (const l of leases) await this.release(l.id, l.sessionId, "canceled");
    return leases.length;
  }

  async jobLeases(jobId: string, page: { offset?: number; limit?: number } = {}): Promise<Lease[]> {
    const offset = page.offset ?? 0;
    const stop = page.limit === undefined ? -1 : offset + page.limit - 1;
    const ids = await this.redis.zrevrange(this.keys.jobLeases(jobId), offset, stop);
    return present(
      await readHashes(
        this.redis,
        ids.map((id) => this.keys.lease(id)),
        leaseFromHash,
      ),
    );
  }

  /** Runs the claim script with nothing to try: proves Redis runs the farm's scripts (readiness). */
  async probe(): Promise<void> {
    const keys = [this.keys.ready(), this.keys.runnable(), this.keys.served(), this.keys.servedRank()];
    await claimWork.run(
      this.redis,
      [...keys, this.keys.engaged(), this.keys.sessionLeases("probe")],
      [this.keys.root, "probe", "", "any", -1, -1, -1, 0, 1, "probe", Date.now(), "", 1000, 0],
    );
  }

  /** Frames of the job held under a lease now (BullMQ's active list). */
  async activeFrameCount(jobId: string): Promise<number> {
    return this.redis.llen(this.keys.bull(jobId, "active"));
  }

  async failedFrameIndices(jobId: string): Promise<number[]> {
    const ids = await this.redis.zrange(this.keys.bull(jobId, "failed"), 0, -1);
    return ids.map(indexOfBullId).filter((i) => i >= 0);
  }

  /** BullMQ's stalled checker put a frame back in line: the holder's lease ran out (a soft failure). */
  private async onStalled(jobId: string, bullId: string): Promise<void> {
    try {
      const holder = await this.holderOf(jobId, bullId);
      if (holder) {
        const idx = indexOfBullId(bullId);
        const phase = idx < 0 ? "video" : "render";
        await this.recordFailure(jobId, holder.sessionId, holder.leaseId, phase, idx < 0 ? [0] : [idx], [], "stall");
      }
      this.emitProgress(jobId);
    } catch (err) {
      this.logger.warn({ err, jobId, bullId }, "could not record a stalled frame");
    }
  }

  /** A frame that stalled more often than allowed was handed out: it fails for good. */
  private async failStalledForGood(jobId: string, job: BullJob, token: string): Promise<void> {
    const reason = job.deferredFailure ?? "job stalled more than allowable limit";
    try {
      await job.moveToFailed(new UnrecoverableError(reason), token, false);
    } catch (err) {
      this.logger.warn({ err, jobId, bullId: job.id }, "could not fail a frame that stalled too often");
      return;
    }
    await this.onStallLimit(jobId, job.id as string, reason);
  }

  /** A frame stalled more often than allowed and was failed: it fails for good. */
  private async onStallLimit(jobId: string, bullId: string, reason: string): Promise<void> {
    try {
      const holder = await this.holderOf(jobId, bullId);
      const idx = indexOfBullId(bullId);
      const phase = idx < 0 ? "video" : "render";
      await this.recordFailure(
        jobId,
        holder?.sessionId ?? "",
        holder?.leaseId ?? "",
        phase,
        [],
        idx < 0 ? [0] : [idx],
        "stall",
      );
      this.logger.info({ jobId, frameIndex: idx, reason }, "frame failed for good");
      this.emitProgress(jobId);
    } catch (err) {
      this.logger.warn({ err, jobId, bullId }, "could not record a failed frame");
    }
  }

  private async holderOf(jobId: string, bullId: string): Promise<{ sessionId: string; leaseId: string } | null> {
    const idx = indexOfBullId(bullId);
    if (idx < 0) {
      const ids = await this.redis.zrevrange(this.keys.jobLeases(jobId), 0, 0);
      const lease = ids[0] ? await this.getLease(ids[0]) : null;
      return lease && lease.phase === "video" ? { sessionId: lease.sessionId, leaseId: lease.id } : null;
    }
    const st = await this.redis.hget(this.keys.frameStates(jobId), String(idx));
    if (!st) return null;
    const [, sessionId, leaseId] = st.split("|");
    return sessionId && leaseId ? { sessionId, leaseId } : null;
  }

  private emitProgress(jobId: string): void {
    for (const l of this.listeners) l(jobId);
  }

  async requeueFrames(jobId: string, indices: number[]): Promise<void> {
    if (indices.length === 0) return;
    const runs = await this.redis.hget(this.keys.job(jobId), "runs");
    if (!runs) return;
    const list = new FrameList(JSON.parse(runs));
    const queue = this.queues.queue(jobId);
    const video = await BullJob.fromId(queue, VIDEO_ID);
    await video?.remove().catch(() => undefined);
    for (let s = 0; s < indices.length; s += this.enqueueBatch) {
      const slice = indices.slice(s, s + this.enqueueBatch);
      const existing = await Promise.all(slice.map((i) => BullJob.fromId(queue, frameId(i))));
      await Promise.all(existing.map((j) => j?.remove().catch(() => undefined)));
      await requeueCounters.run(
        this.redis,
        [this.keys.job(jobId), this.keys.frameStates(jobId), this.keys.schedJob(jobId)],
        slice,
      );
      await queue.addBulk(
        slice.map((i) => ({
          name: "frame",
          data: { i, f: list.frameAt(i) },
          opts: {
            jobId: frameId(i),
            priority: i + 1,
            attempts: this.opts.taskFailWorkers,
            removeOnComplete: true,
            removeOnFail: false,
          },
        })),
      );
    }
    await this.markReady(jobId);
  }

  /** Puts a video task that did not complete back in line, its failure undone (job requeued). */
  async requeueVideo(jobId: string): Promise<boolean> {
    const video = await BullJob.fromId(this.queues.queue(jobId), VIDEO_ID);
    await video?.remove().catch(() => undefined);
    const was = await requeueVideo.run<number>(
      this.redis,
      [this.keys.job(jobId), this.keys.frameStates(jobId), this.keys.schedJob(jobId)],
      [],
    );
    return was === 1;
  }

  /** Forgets who failed the job: blocklist, failure counts, failure lists (job requeued). */
  async clearFailures(jobId: string): Promise<void> {
    const lists = await this.scanKeys(`${this.keys.schedJob(jobId)}:sfail:*`);
    await clearFailureLists.run(this.redis, [this.keys.blocklist(jobId), this.keys.failureCounts(jobId), ...lists], []);
  }

  private async scanKeys(pattern: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
    return [...new Set(found)];
  }

  async removeJob(jobId: string): Promise<void> {
    await this.setRunnable(jobId, false);
    await this.filled(jobId);
    const queue = this.queues.queue(jobId);
    await queue.obliterate({ force: true }).catch((err) => this.logger.warn({ err, jobId }, "obliterate failed"));
    await this.queues.drop(jobId);
    const leases = await this.redis.zrange(this.keys.jobLeases(jobId), 0, -1);
    const pipe = this.redis.pipeline();
    for (const id of leases) pipe.del(this.keys.lease(id), this.keys.leaseLog(id));
    pipe.del(this.keys.jobLeases(jobId), this.keys.schedJob(jobId), this.keys.blocklist(jobId));
    pipe.del(this.keys.frameAttempts(jobId));
    pipe.del(this.keys.failureCounts(jobId));
    pipe.hdel(this.keys.served(), jobId);
    pipe.zrem(this.keys.engaged(), jobId);
    pipe.zrem(this.keys.ready(), jobId);
    pipe.srem(this.keys.filling(), jobId);
    await pipe.exec();
    let cursor = "0";
    do {
      const [next, found] = await this.redis.scan(
        cursor,
        "MATCH",
        `${this.keys.schedJob(jobId)}:sfail:*`,
        "COUNT",
        500,
      );
      cursor = next;
      if (found.length > 0) await this.redis.unlink(...found);
    } while (cursor !== "0");
  }

  /**
   * The periodic checks, at a cost that follows the work out rather than the number of jobs: for
   * up to `sweepJobs` engaged jobs (those with frames out or claimed lately, oldest-swept first),
   * BullMQ's stalled check (a lease that ran out puts its frames back in line) and the orphan check
   * (a frame out under a token with no active lease goes back, or finishes the completion or
   * failure already recorded for it); the video task of a job whose frames are all done; and the
   * frame fill of up to `sweepJobs` jobs whose frames are not all in line.
   */
  async sweep(): Promise<void> {
    const ids = await this.redis.zrange(this.keys.engaged(), 0, this.sweepJobs - 1);
    for (const id of ids) {
      if (this.closing) return;
      try {
        await this.sweepOne(id);
      } catch (err) {
        this.logger.warn({ err, jobId: id }, "sweeping a job failed; the next sweep retries");
      }
    }
    const filling = await this.redis.srandmember(this.keys.filling(), this.sweepJobs);
    for (const id of filling) this.fillInBackground(id);
  }

  private async sweepOne(jobId: string): Promise<void> {
    const stalled = await this.queues.moveStalled(jobId);
    for (const bullId of stalled) await this.onStalled(jobId, bullId);
    const now = Date.now();
    const raw = await sweepJob.run<string[]>(
      this.redis,
      [
        this.keys.bull(jobId, "active"),
        this.keys.schedJob(jobId),
        this.keys.engaged(),
        this.keys.frameStates(jobId),
        this.keys.job(jobId),
      ],
      [this.keys.bull(jobId, ""), this.keys.root, now, ORPHAN_GRACE_MS, ENGAGED_IDLE_MS, jobId],
    );
    for (let k = 0; k < raw.length; k += 3) {
      const bullId = raw[k] as string;
      const token = raw[k + 1] as string;
      const letter = raw[k + 2];
      await this.settleOrphan(jobId, bullId, token, letter).catch((err) =>
        this.logger.warn({ err, jobId, bullId }, "could not settle a frame out under a lost lease"),
      );
    }
    if (stalled.length > 0 || raw.length > 0) await this.markReady(jobId);
    await this.startVideoIfAny(jobId);
  }

  /** Finishes in BullMQ what the farm already recorded for a frame, or puts it back in line. */
  private async settleOrphan(jobId: string, bullId: string, token: string, letter: string | undefined): Promise<void> {
    if (letter === "c" || letter === "f" || letter === "s") {
      const job = await BullJob.fromId(this.queues.queue(jobId), bullId);
      if (!job) return;
      if (letter === "c") await job.moveToCompleted("done", token, false);
      else if (letter === "f") await job.moveToFailed(new UnrecoverableError("failed"), token, false);
      // A retried failure goes back through BullMQ's attempts, as the client's failure would have.
      else await job.moveToFailed(new Error("failed"), token, false);
      return;
    }
    await this.queues.backToWait(jobId, bullId, token);
    this.logger.info({ jobId, bullId, token }, "a frame out under a lost lease went back in line");
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.filling.values());
    await this.queues.close();
  }
}

function bullIds(lease: Lease): string[] {
  return lease.phase === "video" ? [VIDEO_ID] : lease.indices.map(frameId);
}

function leaseFromHash(h: Record<string, string>): Lease | null {
  if (!h.id || !h.job || !h.session) return null;
  const list = (s: string | undefined) => (s ? s.split(",").filter(Boolean).map(Number) : []);
  return {
    id: h.id,
    jobId: h.job,
    sessionId: h.session,
    phase: h.phase === "video" ? "video" : "render",
    frames: list(h.frames),
    indices: list(h.indices),
    taskType: h.tasktype ?? "blender",
    created: h.created ?? "",
    updated: h.updated ?? "",
    leaseMs: Number(h.leasems ?? 0),
    state: (h.state ?? "active") as Lease["state"],
    attempt: Number(h.attempt ?? 1),
  };
}
