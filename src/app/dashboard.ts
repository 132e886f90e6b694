import type { z } from "zod";
import { RedisDashboardReads } from "../../adapters/redis/redis-dashboard-reads.js";
import { Thumbnails, type ThumbSize } from "../../adapters/storage/thumbnails.js";
import type { ClientDetail, DashboardClient, FarmSummary, FrameStates } from "../../contracts/dashboard/dashboard.js";
import { encodeFrameStates } from "../domain/dashboard/frame-states.js";
import { etaSeconds, recentRate, throughput } from "../domain/dashboard/progress.js";
import { FarmError, notFound } from "../domain/errors.js";
import { SIMPLE_BLENDER_RENDER } from "../domain/jobs/job-types.js";
import { frameOutputPath } from "../domain/jobs/output-path.js";
import type { Session } from "../domain/sessions/session.js";
import type { Farm } from "./farm.js";
import { renderClientsOf } from "./render-clients.js";

/**
 * What the web dashboard reads beside the Flamenco job API: the farm at a glance, clients of both
 * protocols in one list, a job's frames compactly, previews of rendered frames. One per farm.
 */
export class Dashboard {
  private readonly reads: RedisDashboardReads;
  private readonly thumbs = new Thumbnails();

  constructor(private readonly farm: Farm) {
    this.reads = new RedisDashboardReads(farm.redis, farm.keys);
  }

  async summary(now = Date.now()): Promise<z.infer<typeof FarmSummary>> {
    const jobs = (await this.farm.jobs.list()).sort((a, b) => b.created.localeCompare(a.created));
    const [active, minutes] = await Promise.all([
      this.reads.activeFrames(jobs.map((j) => j.id)),
      this.farm.events.activity(60, now),
    ]);
    const series = throughput(minutes);
    return {
      now: new Date(now).toISOString(),
      jobs: jobs.map((j, k) => {
        const act = Math.max(0, Math.min(active[k] ?? 0, j.frameCount - j.completedFrames - j.failedFrames));
        const remaining = Math.max(0, j.frameCount - j.completedFrames - j.failedFrames);
        const rate = recentRate(minutes, j.id, Date.parse(j.created), now);
        return {
          id: j.id,
          name: j.name,
          type: j.type,
          status: j.status,
          priority: j.priority,
          created: j.created,
          updated: j.updated,
          reason: j.reason,
          frameCount: j.frameCount,
          done: j.completedFrames,
          failed: j.failedFrames,
          active: act,
          queued: remaining - act,
          framesPerMinute: Math.round(rate * 100) / 100,
          etaSeconds: etaSeconds(remaining, rate),
          hasVideo: j.hasVideo,
          videoState: j.videoState,
        };
      }),
      throughput: series,
      framesLastHour: series.reduce((n, m) => n + m.frames, 0),
    };
  }

  async clients(): Promise<z.infer<typeof DashboardClient>[]> {
    const sessions = await this.farm.sessions.list();
    return this.describe(sessions);
  }

  async client(id: string): Promise<z.infer<typeof ClientDetail>> {
    const s = await this.farm.sessions.get(id);
    if (!s) throw notFound(`no client ${id}`);
    const [[base], [counts], jobs] = await Promise.all([
      this.describe([s]),
      this.farm.events.clientCounts([id]),
      this.farm.jobs.list(),
    ]);
    const names = new Map(jobs.map((j) => [j.id, j.name]));
    const blocked = await this.reads.blocklistedFrom(
      id,
      jobs.map((j) => j.id),
    );
    const failuresByJob = Object.entries(counts ?? {})
      .filter(([k]) => k.startsWith("failed:"))
      .map(([k, v]) => ({ jobId: k.slice(7), jobName: names.get(k.slice(7)) ?? "(deleted)", failed: Number(v) }));
    return {
      ...(base as z.infer<typeof DashboardClient>),
      created: s.created,
      failuresByJob,
      blocklistedFrom: blocked.map((jobId) => ({ jobId, jobName: names.get(jobId) ?? "" })),
    };
  }

  private async describe(sessions: Session[]): Promise<z.infer<typeof DashboardClient>[]> {
    const [counts, held, jobs] = await Promise.all([
      this.farm.events.clientCounts(sessions.map((s) => s.id)),
      Promise.all(sessions.map((s) => this.farm.work.held(s.id))),
      this.farm.jobs.list(),
    ]);
    const names = new Map(jobs.map((j) => [j.id, j.name]));
    return sessions.map((s, k) => ({
      id: s.id,
      name: s.name,
      protocol: s.protocol,
      status: s.status,
      lastSeen: new Date(s.lastSeen).toISOString(),
      address: s.attrs.address ?? "",
      platform: s.attrs.platform ?? s.attrs.os ?? "",
      current: (held[k] ?? []).map((l) => ({
        taskId: l.id,
        jobId: l.jobId,
        jobName: names.get(l.jobId) ?? "",
        frames: l.frames,
      })),
      done: Number(counts[k]?.done ?? 0),
      failed: Number(counts[k]?.failed ?? 0),
    }));
  }

  /** Ends a SheepIt session (its frames back in line at once); a Flamenco worker is asked to sleep instead. */
  async endSession(id: string): Promise<void> {
    const s = await this.farm.sessions.get(id);
    if (!s) throw notFound(`no client ${id}`);
    if (s.protocol !== "sheepit") {
      throw new FarmError(
        "invalid-transition",
        `${s.name} is a Flamenco worker: ask it to sleep or go offline (worker-mgt setstatus) instead`,
      );
    }
    await renderClientsOf(this.farm).service.endSession(id);
  }

  async frames(jobId: string): Promise<z.infer<typeof FrameStates>> {
    const job = await this.farm.jobs.get(jobId);
    const [list, records] = await Promise.all([this.farm.jobStore.frames(jobId), this.reads.frameStateRecords(jobId)]);
    const enc = encodeFrameStates(job.frameCount, records);
    return {
      jobId,
      frameCount: job.frameCount,
      runs: (list?.runs ?? []).map(([a, b]) => [a, b] as [number, number]),
      ...enc,
    };
  }

  /** A preview of a rendered frame of the job, or null when there is none (not rendered, not readable). */
  async thumbnail(jobId: string, index: number, size: ThumbSize): Promise<Buffer | null> {
    const job = await this.farm.jobs.get(jobId);
    if (job.type !== SIMPLE_BLENDER_RENDER || !Number.isInteger(index) || index < 0 || index >= job.frameCount) {
      return null;
    }
    const list = await this.farm.jobStore.frames(jobId);
    if (!list) return null;
    const file = frameOutputPath(
      String(job.settings.render_output),
      list.frameAt(index),
      String(job.settings.output_file_extension ?? ""),
    );
    // Only files inside the farm storage (links resolved), as every path from a job.
    const real = await this.farm.storage.real(file, "render_output").catch(() => null);
    return real ? this.thumbs.of(real, size) : null;
  }
}

const built = new WeakMap<Farm, Dashboard>();

export function dashboardOf(farm: Farm): Dashboard {
  let d = built.get(farm);
  if (!d) {
    d = new Dashboard(farm);
    built.set(farm, d);
  }
  return d;
}
