import type { Hono } from "hono";
import { BinaryParams } from "../../../contracts/sheepit/index.js";
import type { AppEnv } from "../../../src/app/http-env.js";
import { FarmError } from "../../../src/domain/errors.js";
import { fileAnswer } from "../file-answer.js";
import { formAndQuery, parseParams } from "../params.js";
import type { SheepitKit } from "../route-kit.js";

/** Where 2024 clients download renderers (the config answer's `download-binary`). */
export const BINARY_PATH = "/server/binary.php";

/**
 * The 2024 renderer download (`?job=ID`): the renderer zip of the session's platform, as
 * `archive.php?type=binary` serves it, for sessions given a frame of the job. Anything else is 404
 * (in XML, by adapters/sheepit/fallback.ts).
 */
export function downloadBinaryRoute(app: Hono<AppEnv>, k: SheepitKit): void {
  app.on(["GET", "HEAD"], BINARY_PATH, async (c) => {
    let found: { file: string; size: number; md5: string };
    try {
      const p = parseParams(await formAndQuery(c), BinaryParams);
      found = await k.service.archiveFile(k.cookieOf(c), "binary", p.job);
    } catch (err) {
      if (!(err instanceof FarmError)) c.get("log")?.error({ err }, "renderer lookup failed");
      return c.text("not found", 404);
    }
    return fileAnswer(c, found);
  });
}
