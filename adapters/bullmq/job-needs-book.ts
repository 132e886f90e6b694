import type { JobNeeds } from "../../src/domain/jobs/job.js";
import type { SchedulerContext } from "./scheduler-context.js";

/** What a job needs of a client (device, RAM, VRAM, render time), in its scheduling hash. */
export class JobNeedsBook {
  constructor(private readonly ctx: SchedulerContext) {}

  async set(jobId: string, needs: Partial<JobNeeds>): Promise<void> {
    const fields: Record<string, string | number> = {};
    if (needs.device !== undefined) fields.device = needs.device;
    if (needs.ramKb !== undefined) fields.ram = needs.ramKb;
    if (needs.vramBytes !== undefined) fields.vram = needs.vramBytes;
    if (needs.renderSeconds !== undefined) fields.time = needs.renderSeconds;
    if (Object.keys(fields).length > 0) await this.ctx.redis.hset(this.ctx.keys.schedJob(jobId), fields);
  }

  async get(jobId: string): Promise<JobNeeds | null> {
    const [device, ram, vram, time] = await this.ctx.redis.hmget(
      this.ctx.keys.schedJob(jobId),
      "device",
      "ram",
      "vram",
      "time",
    );
    if (device === null) return null;
    return {
      device: device === "cpu" || device === "gpu" ? device : "any",
      ramKb: Number(ram) || 0,
      vramBytes: Number(vram) || 0,
      renderSeconds: Number(time) || 0,
    };
  }
}
