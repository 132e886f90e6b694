import type { Redis } from "ioredis";
import { BullmqScheduler } from "../../adapters/bullmq/bullmq-scheduler.js";
import { Keys } from "../../adapters/redis/keys.js";
import { PublishingSessionStore } from "../../adapters/redis/publishing-session-store.js";
import { RedisAttemptLimiter } from "../../adapters/redis/redis-attempt-limiter.js";
import { RedisFarmEvents } from "../../adapters/redis/redis-farm-events.js";
import { RedisJobStore } from "../../adapters/redis/redis-job-store.js";
import { RedisOutputClaims } from "../../adapters/redis/redis-output-claims.js";
import type { RedisSessionStore } from "../../adapters/redis/redis-session-store.js";
import { RedisWorkerStore } from "../../adapters/redis/redis-worker-store.js";
import { FinalOutputMover } from "../../adapters/storage/final-output-mover.js";
import { StorageRoot } from "../../adapters/storage/storage-root.js";
import { JobService } from "../domain/jobs/job-service.js";
import { WorkService } from "../domain/scheduling/work-service.js";
import { WorkerService } from "../domain/workers/worker-service.js";
import type { Config } from "./config.js";
import { GatewayVideo } from "./gateway-video.js";
import type { Logger } from "./logger.js";

/**
 * The composition root of the domain: one farm on one Redis. Several gateway processes each build
 * one of these on the same Redis and prefix; all state that matters is in Redis.
 */
export interface Farm {
  config: Config;
  redis: Redis;
  keys: Keys;
  logger: Logger;
  storage: StorageRoot;
  scheduler: BullmqScheduler;
  jobs: JobService;
  work: WorkService;
  sessions: RedisSessionStore;
  jobStore: RedisJobStore;
  /** Flamenco workers: registration, auth, states, tasks and their updates, liveness. */
  workers: WorkerService;
  /** The gateway's own ffmpeg: makes videos no signed-on worker can (GATEWAY_FFMPEG). */
  video: GatewayVideo;
  /** Change events for live views (the dashboard), through Redis: one subscriber connection per process. */
  events: RedisFarmEvents;
  /** Resolves when Redis answers and the queues are usable; rejects with the reason otherwise. */
  ready(): Promise<void>;
  /** Runs the periodic checks once (stalled leases, timed-out sessions, video tasks). */
  sweep(): Promise<void>;
  /** Registers a periodic check run by `sweep` (protocol adapters add theirs). */
  addSweeper(name: string, fn: () => Promise<void>): void;
  close(): Promise<void>;
}

export function createFarm(config: Config, redis: Redis, logger: Logger): Farm {
  const keys = new Keys(config.REDIS_PREFIX);
  const events = new RedisFarmEvents(redis, keys, logger);
  const storage = new StorageRoot(config.storageRoot);
  const scheduler = new BullmqScheduler(
    redis,
    keys,
    {
      defaultLeaseMs: config.TASK_TIMEOUT,
      maxStalled: config.MAX_STALLED,
      stalledIntervalMs: config.SWEEP_INTERVAL,
      taskFailWorkers: config.TASK_FAIL_WORKERS,
      blocklistThreshold: config.BLOCKLIST_THRESHOLD,
      frameWindow: config.FRAME_WINDOW,
    },
    logger,
  );
  const jobStore = new RedisJobStore(redis, keys);
  const jobs = new JobService(
    jobStore,
    scheduler,
    storage,
    {
      maxJobFrames: config.MAX_JOB_FRAMES,
      jobFailPercent: config.JOB_FAIL_PERCENT,
      allowedBlenderCmds: config.ALLOWED_BLENDER_CMDS,
    },
    new RedisOutputClaims(redis, keys),
    new FinalOutputMover(redis, keys),
    events,
  );
  const work = new WorkService(scheduler, jobs, events);
  const sessions: RedisSessionStore = new PublishingSessionStore(redis, keys, events);
  scheduler.onProgress((jobId) => {
    jobs.rollUp(jobId).catch((err) => logger.warn({ err, jobId }, "roll-up failed"));
  });
  const workers = new WorkerService(sessions, new RedisWorkerStore(redis, keys, config.TASK_LOG_MAX), work, jobs, {
    taskTimeoutMs: config.TASK_TIMEOUT,
    workerTimeoutMs: config.WORKER_TIMEOUT,
    sweepIntervalMs: config.SWEEP_INTERVAL,
    allowedNetworks: config.WORKER_ALLOWED_NETWORKS,
    // Wrong worker secrets per address in 5 minutes (key `login-failures:worker-addr:<address>`).
    authLimiter: new RedisAttemptLimiter(redis, (s) => keys.loginFailures(`worker-${s}`), 5 * 60_000),
    authFailuresPerAddress: config.WORKER_AUTH_RATE_LIMIT,
    tools: {
      linux: { blender: config.BLENDER_CMD_LINUX, ffmpeg: config.FFMPEG_CMD_LINUX },
      windows: { blender: config.BLENDER_CMD_WINDOWS, ffmpeg: config.FFMPEG_CMD_WINDOWS },
      darwin: { blender: config.BLENDER_CMD_DARWIN, ffmpeg: config.FFMPEG_CMD_DARWIN },
    },
  });
  const video = new GatewayVideo(
    {
      redis,
      keys,
      scheduler,
      work,
      jobs,
      sessions,
      logger,
      workerStore: new RedisWorkerStore(redis, keys, config.TASK_LOG_MAX),
    },
    {
      enabled: config.GATEWAY_FFMPEG,
      ffmpegCmd: config.FFMPEG_CMD,
      leaseMs: config.TASK_TIMEOUT,
      workerTimeoutMs: config.WORKER_TIMEOUT,
      sweepIntervalMs: config.SWEEP_INTERVAL,
      logMax: config.TASK_LOG_MAX,
    },
  );
  const sweepers = new Map<string, () => Promise<void>>([
    ["scheduler", () => scheduler.sweep()],
    ["flamenco-workers", async () => void (await workers.sweep())],
    ["gateway-video", () => video.sweep()],
    ["move-to-final", () => jobs.completeFinished()],
  ]);
  return {
    config,
    redis,
    keys,
    logger,
    storage,
    scheduler,
    jobs,
    work,
    sessions,
    jobStore,
    workers,
    video,
    events,
    async ready() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("redis did not answer within 2 s")), 2000);
      });
      try {
        // Redis answers and runs the farm's scripts (the queues are usable).
        await Promise.race([redis.ping().then(() => scheduler.probe()), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    addSweeper(name, fn) {
      sweepers.set(name, fn);
    },
    async sweep() {
      for (const [name, fn] of sweepers) {
        try {
          await fn();
        } catch (err) {
          logger.warn({ err, sweeper: name }, "sweep failed");
        }
      }
    },
    async close() {
      await video.close();
      await scheduler.close();
      await events.close();
    },
  };
}
