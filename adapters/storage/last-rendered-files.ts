import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Redis } from "ioredis";
import type { LastRenderedImage, LastRenderedStore } from "../../src/domain/jobs/last-rendered.js";
import type { Keys } from "../redis/keys.js";
import { LuaScript } from "../redis/lua-script.js";

/** The keys of last-rendered images, under the farm's hash tag. */
export function lastRenderedKeys(keys: Keys) {
  return {
    /** Hash: contentType, file, updated of a job's image. */
    image: (jobId: string) => `${keys.root}:last-rendered:${jobId}`,
    /** String: the job whose image came last. */
    latest: () => `${keys.root}:last-rendered-latest`,
    /** String with a TTL: a worker's turn to send a preview. */
    turn: (workerId: string) => `${keys.root}:last-rendered-turn:${workerId}`,
  };
}

/** Records a job's image and makes it the farm's latest, in one step. */
const saveLastRendered = new LuaScript(
  "saveLastRendered",
  `redis.call('HSET', KEYS[1], 'contentType', ARGV[2], 'file', ARGV[3], 'updated', ARGV[4])
redis.call('SET', KEYS[2], ARGV[1])
return 1`,
);

/**
 * Last-rendered images on disk under `<DATA_DIR>/last-rendered/<job id>.png|jpg` (written to a
 * temporary file and renamed, so a reader never sees half an image), their record in Redis.
 */
export class LastRenderedFiles implements LastRenderedStore {
  private readonly k: ReturnType<typeof lastRenderedKeys>;
  private readonly dir: string;

  constructor(
    private readonly redis: Redis,
    keys: Keys,
    dataDir: string,
  ) {
    this.k = lastRenderedKeys(keys);
    this.dir = path.join(dataDir, "last-rendered");
  }

  async takeTurn(workerId: string, intervalMs: number): Promise<boolean> {
    return (await this.redis.set(this.k.turn(workerId), "1", "PX", Math.max(1, intervalMs), "NX")) === "OK";
  }

  async save(image: LastRenderedImage, bytes: Uint8Array): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    const file = `${image.jobId}${image.contentType === "image/png" ? ".png" : ".jpg"}`;
    const tmp = path.join(this.dir, `.${file}.${randomUUID()}.tmp`);
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, path.join(this.dir, file));
    await saveLastRendered.run(
      this.redis,
      [this.k.image(image.jobId), this.k.latest()],
      [image.jobId, image.contentType, file, image.updated],
    );
  }

  async info(jobId: string): Promise<LastRenderedImage | null> {
    const h = await this.redis.hgetall(this.k.image(jobId));
    if (h.contentType !== "image/png" && h.contentType !== "image/jpeg") return null;
    return { jobId, contentType: h.contentType, updated: h.updated ?? "" };
  }

  latestJobId(): Promise<string | null> {
    return this.redis.get(this.k.latest());
  }

  async read(jobId: string): Promise<Uint8Array | null> {
    const file = await this.redis.hget(this.k.image(jobId), "file");
    if (!file || file.includes("/") || file.includes("\\")) return null;
    try {
      return await fs.readFile(path.join(this.dir, file));
    } catch {
      return null;
    }
  }
}
