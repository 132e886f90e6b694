import { recordFailure } from "./lease-scripts.js";
import type { SchedulerContext } from "./scheduler-context.js";

/** What `recordFailure` decided: the frames that go back in line, those that failed for good. */
export interface RecordedFailure {
  retried: string[];
  failed: string[];
  blocklisted: boolean;
}

/**
 * Records a failure in the farm's books (`recordFailure`: the frames' states, the session's
 * failure list and count, the blocklist), for a client's failure (`lease`) or a stall (`stall`).
 */
export class FailureBooks {
  constructor(private readonly ctx: SchedulerContext) {}

  async record(
    jobId: string,
    sessionId: string,
    leaseId: string,
    phase: "render" | "video",
    retried: number[],
    failed: number[],
    mode: "lease" | "stall",
  ): Promise<RecordedFailure> {
    const { redis, keys } = this.ctx;
    const now = new Date();
    const video = (l: number[]) => (phase === "video" ? (l.length ? [-1] : []) : l);
    const res = await recordFailure.run<Array<number | string>>(
      redis,
      [
        keys.job(jobId),
        keys.frameStates(jobId),
        keys.lease(leaseId),
        keys.sessionLeases(sessionId),
        keys.failureCounts(jobId),
        keys.sessionFailedFrames(jobId, sessionId),
        keys.blocklist(jobId),
      ],
      [
        sessionId,
        leaseId,
        now.toISOString(),
        now.getTime(),
        this.ctx.opts.blocklistThreshold,
        video(retried).join(","),
        video(failed).join(","),
        phase,
        mode,
        keys.bull(jobId, ""),
      ],
    );
    const list = (v: unknown) =>
      String(v ?? "")
        .split(",")
        .filter(Boolean);
    return { blocklisted: Number(res[2]) === 1, retried: list(res[3]), failed: list(res[4]) };
  }
}
