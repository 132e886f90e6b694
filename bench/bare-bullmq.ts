import { randomBytes } from "node:crypto";
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { connectRedis } from "../adapters/redis/connection.js";
import { benchRedisUrl, deleteKeys } from "./support.js";

/** Bare BullMQ, the baseline the benches hold the farm's claims to: one queue and a manual worker. */
export interface BareBullmq {
  redis: Redis;
  queue: Queue;
  worker: Worker;
  /** Closes the worker and queue and deletes their keys. */
  close(): Promise<void>;
}

/** A queue under a prefix of its own on the bench Redis, with a worker that takes jobs by hand. */
export function bareBullmq(label: string, lockDuration: number): BareBullmq {
  const prefix = `${label}-${randomBytes(3).toString("hex")}`;
  const redis = connectRedis(benchRedisUrl(), "bellwether-bench-bare");
  const queue = new Queue("bare", { connection: redis, prefix: `{${prefix}}` });
  const worker = new Worker("bare", null, { connection: redis, prefix: `{${prefix}}`, autorun: false, lockDuration });
  return {
    redis,
    queue,
    worker,
    async close() {
      await worker.close(true);
      await queue.close();
      await deleteKeys(redis, prefix);
      await redis.quit();
    },
  };
}
