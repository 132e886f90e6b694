import type { Farm } from "./farm.js";

/** Upper bounds (seconds) of the request latency histogram. */
const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",")}}`;

/**
 * Prometheus metrics of one gateway process: request latency by route and protocol (kept here),
 * and farm gauges read from Redis at scrape time (frames by state, jobs by status, sessions by
 * protocol and status), which are the same whichever gateway is scraped.
 */
export class Metrics {
  private readonly latency = new Map<string, { labels: Record<string, string>; h: Histogram }>();

  observeRequest(protocol: string, method: string, route: string, status: number, seconds: number): void {
    const l = { protocol, method, route, status: String(status) };
    const key = JSON.stringify(l);
    let entry = this.latency.get(key);
    if (!entry) {
      entry = { labels: l, h: { counts: buckets.map(() => 0), sum: 0, count: 0 } };
      this.latency.set(key, entry);
    }
    const { h } = entry;
    h.sum += seconds;
    h.count += 1;
    buckets.forEach((b, i) => {
      if (seconds <= b) h.counts[i] = (h.counts[i] ?? 0) + 1;
    });
  }

  async render(farm: Farm): Promise<string> {
    const out: string[] = [];
    out.push("# HELP bellwether_request_duration_seconds HTTP request latency by route and protocol.");
    out.push("# TYPE bellwether_request_duration_seconds histogram");
    for (const { labels: l, h } of this.latency.values()) {
      buckets.forEach((b, i) => {
        out.push(`bellwether_request_duration_seconds_bucket${labels({ ...l, le: String(b) })} ${h.counts[i]}`);
      });
      out.push(`bellwether_request_duration_seconds_bucket${labels({ ...l, le: "+Inf" })} ${h.count}`);
      out.push(`bellwether_request_duration_seconds_sum${labels(l)} ${h.sum}`);
      out.push(`bellwether_request_duration_seconds_count${labels(l)} ${h.count}`);
    }

    const jobs = await farm.jobs.list();
    const byStatus = new Map<string, number>();
    const frames = { queued: 0, active: 0, completed: 0, failed: 0 };
    const activeByJob = await Promise.all(
      jobs.map((j) => (j.status === "active" || j.status === "paused" ? farm.scheduler.activeFrameCount(j.id) : 0)),
    );
    jobs.forEach((j, k) => {
      byStatus.set(j.status, (byStatus.get(j.status) ?? 0) + 1);
      const active = activeByJob[k] ?? 0;
      frames.completed += j.completedFrames;
      frames.failed += j.failedFrames;
      frames.active += active;
      if (j.status !== "canceled" && j.status !== "failed") {
        frames.queued += Math.max(0, j.frameCount - j.completedFrames - j.failedFrames - active);
      }
    });
    out.push("# HELP bellwether_jobs Jobs by status.", "# TYPE bellwether_jobs gauge");
    for (const [status, n] of byStatus) out.push(`bellwether_jobs${labels({ status })} ${n}`);
    out.push("# HELP bellwether_frames Frames of all jobs by state.", "# TYPE bellwether_frames gauge");
    for (const [state, n] of Object.entries(frames)) out.push(`bellwether_frames${labels({ state })} ${n}`);

    const sessions = await farm.sessions.list();
    const bySession = new Map<string, { protocol: string; status: string; n: number }>();
    for (const s of sessions) {
      const key = `${s.protocol}|${s.status}`;
      const e = bySession.get(key) ?? { protocol: s.protocol, status: s.status, n: 0 };
      e.n += 1;
      bySession.set(key, e);
    }
    out.push(
      "# HELP bellwether_sessions Connected clients by protocol and status.",
      "# TYPE bellwether_sessions gauge",
    );
    for (const e of bySession.values()) {
      out.push(`bellwether_sessions${labels({ protocol: e.protocol, status: e.status })} ${e.n}`);
    }
    return `${out.join("\n")}\n`;
  }
}
