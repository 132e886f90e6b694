import { Redis } from "ioredis";

/** A Redis connection fit for BullMQ (no per-command retry limit) and for the farm's own keys. */
export function connectRedis(url: string, name = "bellwether"): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: name,
  });
}
