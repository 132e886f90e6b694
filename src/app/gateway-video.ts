import { existsSync, statSync } from "node:fs";
import os from "node:os";
import type { Redis } from "ioredis";
import { runCommand } from "../../adapters/ffmpeg/ffmpeg-runner.js";
import type { Keys } from "../../adapters/redis/keys.js";
import type { JobService } from "../domain/jobs/job-service.js";
import { taskCommands } from "../domain/jobs/task-commands.js";
import type { Lease } from "../domain/scheduling/capabilities.js";
import type { Scheduler } from "../domain/scheduling/scheduler.js";
import type { WorkService } from "../domain/scheduling/work-service.js";
import type { SessionStore } from "../domain/sessions/session.js";
import { canRunFfmpeg, type FramesToVideoParams, framesToVideoCommandLine } from "../domain/video/video-rule.js";
import type { WorkerStore } from "../domain/workers/worker-store.js";
import type { Logger } from "./logger.js";

/** Session ids the gateway's own video runs hold leases under start with this. */
export const GATEWAY_SESSION_PREFIX = "gateway-ffmpeg";

export interface GatewayVideoOptions {
  /** `GATEWAY_FFMPEG`: whether the gateway makes videos no worker can. */
  enabled: boolean;
  /** `FFMPEG_CMD`: the gateway's own ffmpeg (first word the program, the rest arguments before the input). */
  ffmpegCmd: string;
  leaseMs: number;
  workerTimeoutMs: number;
  sweepIntervalMs: number;
  logMax: number;
}

export interface GatewayVideoDeps {
  redis: Redis;
  keys: Keys;
  scheduler: Scheduler;
  work: WorkService;
  jobs: JobService;
  sessions: SessionStore;
  workerStore: WorkerStore;
  logger: Logger;
}

/**
 * The gateway makes a job's video itself when the video waits and no signed-on client can run
 * ffmpeg (SheepIt clients never can; Flamenco workers of the spec's era have no `ffmpeg` type).
 * Its sweep (one process at a time, under a short Redis lock) claims the video task as an
 * ordinary lease of its own session, so the normal rules hold: a video is held by one runner at
 * a time, a lease that runs out goes back in line, failures count under TASK_FAIL_WORKERS. It
 * runs ffmpeg with the very arguments handed to workers, on the job's frames in STORAGE_ROOT,
 * writing the MP4 where a worker would; ffmpeg's stderr tail is the task's log.
 */
export class GatewayVideo {
  readonly sessionId = `${GATEWAY_SESSION_PREFIX}:${os.hostname()}:${process.pid}`;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly deps: GatewayVideoDeps,
    private readonly opts: GatewayVideoOptions,
  ) {}

  /** Whether a signed-on client can make videos now. */
  async ffmpegWorkerOnline(now = Date.now()): Promise<boolean> {
    const sessions = await this.deps.sessions.list("flamenco");
    return sessions.some((s) => canRunFfmpeg(s, now - this.opts.workerTimeoutMs));
  }

  /** One sweep: claims a waiting video when nobody else can make it and starts ffmpeg on it. */
  async sweep(): Promise<void> {
    if (!this.opts.enabled || this.running || this.abort.signal.aborted) return;
    const lockMs = Math.max(50, Math.floor(this.opts.sweepIntervalMs * 0.9));
    const lock = await this.deps.redis.set(
      this.deps.keys.sweepLock("gateway-video"),
      String(process.pid),
      "PX",
      lockMs,
      "NX",
    );
    if (lock !== "OK") return;
    if (await this.ffmpegWorkerOnline()) return;
    const got = await this.deps.work.claim({
      caps: { sessionId: this.sessionId, taskTypes: ["ffmpeg"], device: "any" },
      maxFrames: 1,
      leaseMs: this.opts.leaseMs,
    });
    if (!got) return;
    if (got.lease.phase !== "video") {
      await this.deps.work.release(got.lease.id, this.sessionId);
      return;
    }
    this.running = this.make(got.lease)
      .catch((err) => this.deps.logger.warn({ err, jobId: got.lease.jobId }, "the gateway's video run failed"))
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Resolves when the video this process is making (if any) is done. */
  async idle(): Promise<void> {
    await this.running;
  }

  private async make(lease: Lease): Promise<void> {
    const { work, jobs, workerStore, logger } = this.deps;
    const job = await jobs.get(lease.jobId);
    const [cmd] = taskCommands(job, { phase: "video", frames: [] }, { blender: "", ffmpeg: this.opts.ffmpegCmd });
    const p = cmd?.parameters as unknown as FramesToVideoParams;
    const argv = framesToVideoCommandLine(p);
    await workerStore.noteTask(lease.id, {
      activity: "video being made by the gateway",
      log: `${new Date().toISOString()} Task assigned to the gateway's ffmpeg (no ffmpeg-capable worker is signed on)\n$ ${argv.join(" ")}\n`,
    });
    const stop = new AbortController();
    const onClose = () => stop.abort();
    this.abort.signal.addEventListener("abort", onClose, { once: true });
    const keep = setInterval(
      () => {
        work.extend(lease.id, this.sessionId, this.opts.leaseMs).catch(() => stop.abort());
      },
      Math.max(1000, Math.floor(this.opts.leaseMs / 3)),
    );
    let res: Awaited<ReturnType<typeof runCommand>>;
    try {
      res = await runCommand(argv, { signal: stop.signal, logMax: Math.min(this.opts.logMax, 65_536) });
    } finally {
      clearInterval(keep);
      this.abort.signal.removeEventListener("abort", onClose);
    }
    const tail = res.log.endsWith("\n") || res.log === "" ? res.log : `${res.log}\n`;
    if (stop.signal.aborted) {
      // Shut down, or the job was canceled: give the video back (a canceled lease is already closed).
      await workerStore.noteTask(lease.id, { log: `${tail}stopped before it finished\n` });
      await work.release(lease.id, this.sessionId).catch(() => undefined);
      return;
    }
    const made = res.code === 0 && existsSync(p.outputFile) && statSync(p.outputFile).size > 0;
    if (made) {
      await workerStore.noteTask(lease.id, {
        activity: "video made by the gateway",
        log: `${tail}wrote ${p.outputFile}\n`,
      });
      await work.complete(lease.id, this.sessionId);
      logger.info({ jobId: lease.jobId, file: p.outputFile }, "video made by the gateway");
    } else {
      const why = res.code === null ? "ffmpeg did not run" : `ffmpeg exited with code ${res.code}`;
      await workerStore.noteTask(lease.id, { activity: why, log: `${tail}${why}\n` });
      await work.fail(lease.id, this.sessionId, why);
      logger.warn({ jobId: lease.jobId, code: res.code }, "the gateway's ffmpeg failed the video");
    }
  }

  /** Stops a video in the making (it goes back in line) and waits for it. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}
