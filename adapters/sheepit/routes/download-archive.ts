import type { Hono } from "hono";
import { ArchiveParams } from "../../../contracts/sheepit/index.js";
import type { AppEnv } from "../../../src/app/http-env.js";
import { FarmError } from "../../../src/domain/errors.js";
import { fileAnswer } from "../file-answer.js";
import { formAndQuery, parseParams } from "../params.js";
import type { SheepitKit } from "../route-kit.js";

/** The 2020–2022 download (`/server/archive.php?type=binary|job&job=ID`): the renderer or the whole job archive. */
export function downloadArchiveRoute(app: Hono<AppEnv>, k: SheepitKit): void {
  app.on(["GET", "POST", "HEAD"], "/server/archive.php", async (c) => {
    let found: { file: string; size: number; md5: string };
    try {
      const p = parseParams(await formAndQuery(c), ArchiveParams);
      found = await k.service.archiveFile(k.cookieOf(c), p.type, p.job);
    } catch (err) {
      if (!(err instanceof FarmError)) c.get("log")?.error({ err }, "archive lookup failed");
      return c.text("not found", 404);
    }
    return fileAnswer(c, found);
  });
}
