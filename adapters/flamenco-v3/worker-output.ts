import { Hono } from "hono";
import { OutputImageType, TaskIdParam } from "../../contracts/flamenco-v3/index.js";
import type { Farm } from "../../src/app/farm.js";
import { flamencoV3Services } from "../../src/app/flamenco-v3.js";
import { errorJson } from "../flamenco/errors.js";
import { params } from "../flamenco/validate.js";
import { bodyCap, workerId } from "../flamenco/worker-auth.js";
import { workerAuthV3 } from "./worker-auth.js";

/** Whether the bytes begin as their declared type does (PNG signature, JPEG SOI marker). */
function looksLike(type: "image/png" | "image/jpeg", b: Uint8Array): boolean {
  if (type === "image/png") return b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/**
 * `POST /api/v3/worker/task/{task_id}/output-produced`: a PNG or JPEG preview of the task's last
 * frame becomes its job's last-rendered image. 411 without Content-Length, 413 past
 * OUTPUT_PRODUCED_MAX (refused before the body is read), 415 for anything but PNG/JPEG, 429 when
 * the worker sends more often than OUTPUT_PRODUCED_INTERVAL, 202 when kept.
 */
export function outputProducedRoutes(farm: Farm) {
  const app = new Hono();
  const max = farm.config.OUTPUT_PRODUCED_MAX;
  app.post(
    "/worker/task/:task_id/output-produced",
    workerAuthV3(farm),
    async (c, next) => {
      const { task_id } = params(c.req.param(), TaskIdParam);
      const length = c.req.header("content-length");
      if (length === undefined || !/^\d+$/.test(length)) {
        c.header("Connection", "close");
        return errorJson(c, 411, "Content-Length is required");
      }
      if (Number(length) > max) {
        c.header("Connection", "close");
        return errorJson(c, 413, `the image is larger than ${max} bytes`);
      }
      const type = OutputImageType.safeParse((c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase());
      if (!type.success) {
        c.header("Connection", "close");
        return errorJson(c, 415, "only image/png and image/jpeg are accepted");
      }
      c.set("taskId" as never, task_id as never);
      c.set("imageType" as never, type.data as never);
      return next();
    },
    bodyCap(max),
    async (c) => {
      const taskId = c.get("taskId" as never) as string;
      const type = c.get("imageType" as never) as "image/png" | "image/jpeg";
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      if (!looksLike(type, bytes)) return errorJson(c, 415, `the body is not a ${type} image`);
      await flamencoV3Services(farm).lastRendered.accept(workerId(c), taskId, type, bytes);
      return c.body(null, 202);
    },
  );
  return app;
}
