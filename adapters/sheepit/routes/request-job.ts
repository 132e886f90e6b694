import type { Hono } from "hono";
import { JobRequestStatus, RequestJobParams } from "../../../contracts/sheepit/index.js";
import type { AppEnv } from "../../../src/app/http-env.js";
import type { FarmStats } from "../../../src/domain/clients/render-clients.js";
import { formAndQuery, parseParams, readText } from "../params.js";
import type { SheepitKit } from "../route-kit.js";
import { jobRequestXml, parseCache, xmlResponse } from "../xml.js";

const JAVA_INT_MAX = 2 ** 31 - 1;
const jint = (n: number) => Math.max(0, Math.min(JAVA_INT_MAX, Math.floor(n)));

/** `<stats>` attributes, each a Java int. */
function statsAttrs(s: FarmStats) {
  return {
    credits_session: jint(s.sessionCredits),
    credits_total: jint(s.totalCredits),
    frame_remaining: jint(s.framesRemaining),
    waiting_project: jint(s.jobsWaiting),
    connected_machine: jint(s.connectedClients),
    renderable_project: jint(s.jobsWaiting),
  };
}

/** Asking for work (`/server/request_job.php`): one frame as a `<job>`, or a status. */
export function requestJobRoute(app: Hono<AppEnv>, k: SheepitKit): void {
  app.on(["GET", "POST"], "/server/request_job.php", async (c) => {
    try {
      const load = k.inFlight() - 1;
      const raw = await formAndQuery(c);
      const p = parseParams(raw, RequestJobParams);
      const contentType = (c.req.header("content-type") ?? "").toLowerCase();
      const cache = contentType.startsWith("application/x-www-form-urlencoded")
        ? { files: [] }
        : parseCache(await readText(c));
      const answer = await k.service.requestFrame(k.cookieOf(c), {
        computeMethod: Number(p.computemethod) as 0 | 1 | 2,
        cores: p.cpu_cores,
        ramKb: p.ram_max,
        renderSecondsMax: p.rendertime_max,
        gpuType: p.gpu_type,
        gpuModel: p.gpu_model,
        vramBytes: p.gpu_ram,
        cached: cache.files.map((f) => f.md5),
        load,
        baseUrl: k.baseUrlOf(c),
      });
      const f = answer.frame;
      if (!f) {
        return xmlResponse(
          c,
          jobRequestXml({
            status: JobRequestStatus.noJob,
            stats: statsAttrs(answer.stats),
            deleteFiles: answer.deleteArchives,
          }),
        );
      }
      c.set("jobId", f.job.id);
      return xmlResponse(
        c,
        jobRequestXml({
          status: JobRequestStatus.ok,
          stats: statsAttrs(answer.stats),
          job: {
            id: f.sheepitId,
            use_gpu: f.useGpu ? 1 : 0,
            archive_md5: f.archive.md5,
            path: f.archive.blendPath,
            frame: f.frameText,
            synchronous_upload: 0,
            validation_url: encodeURIComponent(f.validationUrl),
            name: f.job.name,
            password: f.archive.password,
            extras: "",
            renderer: { md5: f.renderer.md5, commandline: f.renderer.commandline, update_method: "remainingtime" },
            script: f.script,
            chunks: f.archive.chunks.map((ch) => ({ id: ch.md5, md5: ch.md5 })),
          },
          deleteFiles: answer.deleteArchives,
        }),
      );
    } catch (err) {
      return k.fail(c, "jobrequest", err);
    }
  });
}
