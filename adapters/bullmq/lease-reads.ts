import type { Lease } from "../../src/domain/scheduling/capabilities.js";
import { present, readHashes } from "../redis/read-hashes.js";
import { bullIds } from "./frame-ids.js";
import type { SchedulerContext } from "./scheduler-context.js";

/** Reads leases: one, a session's held ones (dropping those whose every lock ran out), a job's. */
export class LeaseReads {
  constructor(private readonly ctx: SchedulerContext) {}

  async getLease(leaseId: string): Promise<Lease | null> {
    return leaseFromHash(await this.ctx.redis.hgetall(this.ctx.keys.lease(leaseId)));
  }

  async sessionLeases(sessionId: string): Promise<Lease[]> {
    const { redis, keys } = this.ctx;
    const ids = await redis.smembers(keys.sessionLeases(sessionId));
    if (ids.length === 0) return [];
    const read = await readHashes(
      redis,
      ids.map((id) => keys.lease(id)),
      leaseFromHash,
    );
    const leases: Lease[] = [];
    const stale: string[] = [];
    read.forEach((lease, k) => {
      if (lease?.state === "active") leases.push(lease);
      else stale.push(ids[k] as string);
    });
    // A lease whose every frame lock ran out is lost (the frames are back in line or taken).
    const checks = redis.pipeline();
    for (const l of leases) for (const id of bullIds(l)) checks.get(`${keys.bull(l.jobId, id)}:lock`);
    const locks = ((await checks.exec()) ?? []).map(([, v]) => v);
    const held: Lease[] = [];
    let k = 0;
    for (const l of leases) {
      const n = bullIds(l).length;
      const mine = locks.slice(k, k + n).some((v) => v === l.id);
      k += n;
      if (mine) held.push(l);
      else stale.push(l.id);
    }
    if (stale.length > 0) {
      const pipe2 = redis.pipeline();
      pipe2.srem(keys.sessionLeases(sessionId), ...stale);
      for (const id of stale) {
        pipe2.eval(
          "if redis.call('HGET', KEYS[1], 'state') == 'active' then redis.call('HSET', KEYS[1], 'state', 'lost') end return 1",
          1,
          keys.lease(id),
        );
      }
      await pipe2.exec();
    }
    return held;
  }

  async jobLeases(jobId: string, page: { offset?: number; limit?: number } = {}): Promise<Lease[]> {
    const offset = page.offset ?? 0;
    const stop = page.limit === undefined ? -1 : offset + page.limit - 1;
    const ids = await this.ctx.redis.zrevrange(this.ctx.keys.jobLeases(jobId), offset, stop);
    return present(
      await readHashes(
        this.ctx.redis,
        ids.map((id) => this.ctx.keys.lease(id)),
        leaseFromHash,
      ),
    );
  }
}

function leaseFromHash(h: Record<string, string>): Lease | null {
  if (!h.id || !h.job || !h.session) return null;
  const list = (s: string | undefined) => (s ? s.split(",").filter(Boolean).map(Number) : []);
  return {
    id: h.id,
    jobId: h.job,
    sessionId: h.session,
    phase: h.phase === "video" ? "video" : "render",
    frames: list(h.frames),
    indices: list(h.indices),
    taskType: h.tasktype ?? "blender",
    created: h.created ?? "",
    updated: h.updated ?? "",
    leaseMs: Number(h.leasems ?? 0),
    state: (h.state ?? "active") as Lease["state"],
    attempt: Number(h.attempt ?? 1),
  };
}
