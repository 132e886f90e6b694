import type { Hono } from "hono";
import { ChunkParams } from "../../../contracts/sheepit/index.js";
import type { AppEnv } from "../../../src/app/http-env.js";
import { FarmError } from "../../../src/domain/errors.js";
import { fileAnswer } from "../file-answer.js";
import { parseParams, queryParams } from "../params.js";
import type { SheepitKit } from "../route-kit.js";

/** Where 2024 clients download the pieces of a job archive (the config answer's `download-chunk`). */
export const CHUNK_PATH = "/server/chunk.php";

/**
 * One chunk of a job archive (`?chunk=<id>`, the id being the chunk's md5): streamed from the
 * archive on disk with Content-Length and Range, for a session given a frame of a job whose archive
 * holds the chunk. A malformed or unknown id, or a session without such a job, is 404 (in XML, by
 * adapters/sheepit/fallback.ts), never a 500.
 */
export function downloadChunkRoute(app: Hono<AppEnv>, k: SheepitKit): void {
  app.on(["GET", "HEAD"], CHUNK_PATH, async (c) => {
    let found: Awaited<ReturnType<SheepitKit["service"]["chunkFile"]>>;
    try {
      const p = parseParams(queryParams(c), ChunkParams);
      found = await k.service.chunkFile(k.cookieOf(c), p.chunk);
    } catch (err) {
      if (!(err instanceof FarmError)) c.get("log")?.error({ err }, "chunk lookup failed");
      return c.text("not found", 404);
    }
    return fileAnswer(c, { ...found, contentType: "application/octet-stream" });
  });
}
