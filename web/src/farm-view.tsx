import { api, type DashboardClient, type DashboardJob, type FarmSummary } from "./api";
import { ago, duration, STATE_COLOURS } from "./format";
import { useClock, useLive } from "./hooks";

export function ProgressBar(props: {
  job: Pick<DashboardJob, "frameCount" | "done" | "failed" | "active" | "queued">;
}) {
  const { job } = props;
  const total = Math.max(1, job.frameCount);
  const part = (n: number, colour: string, name: string) =>
    n > 0 ? (
      <i class={`bar-${name}`} style={{ width: `${(n * 100) / total}%`, background: colour }} title={`${n} ${name}`} />
    ) : null;
  return (
    <div class="bar" data-testid="progress" data-done={job.done} data-total={job.frameCount}>
      {part(job.done, STATE_COLOURS.d as string, "done")}
      {part(job.failed, STATE_COLOURS.f as string, "failed")}
      {part(job.active, STATE_COLOURS.a as string, "active")}
    </div>
  );
}

function Throughput(props: { points: FarmSummary["throughput"]; total: number }) {
  const max = Math.max(1, ...props.points.map((p) => p.frames));
  const w = 300;
  const h = 60;
  const bw = w / Math.max(1, props.points.length);
  return (
    <div class="card throughput">
      <h3>
        Throughput <small>{props.total} frames in the last hour</small>
      </h3>
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label="frames per minute, last hour">
        {props.points.map((p, k) => {
          const bh = (p.frames / max) * (h - 4);
          return (
            <rect key={p.minute} x={k * bw} y={h - bh} width={Math.max(1, bw - 1)} height={bh} fill="#3fb950">
              <title>{`${new Date(p.minute).toLocaleTimeString()}: ${p.frames} frames`}</title>
            </rect>
          );
        })}
        <line x1="0" y1={h - 0.5} x2={w} y2={h - 0.5} stroke="#555" />
      </svg>
    </div>
  );
}

export function ClientTable(props: { clients: DashboardClient[]; now: number }) {
  if (props.clients.length === 0) return <p class="muted">No client is connected.</p>;
  return (
    <table class="clients" data-testid="clients">
      <thead>
        <tr>
          <th>Name</th>
          <th>Protocol</th>
          <th>Status</th>
          <th>Renders now</th>
          <th>Frames done</th>
          <th>Failures</th>
          <th>Last seen</th>
        </tr>
      </thead>
      <tbody>
        {props.clients.map((c) => (
          <tr key={c.id} data-client={c.name}>
            <td>
              <a href={`#/clients/${encodeURIComponent(c.id)}`}>{c.name}</a>
            </td>
            <td>
              <span class={`proto proto-${c.protocol}`}>{c.protocol === "sheepit" ? "SheepIt" : "Flamenco"}</span>
            </td>
            <td>
              <span class={`status status-${c.status}`}>{c.status}</span>
            </td>
            <td>
              {c.current.length === 0
                ? "—"
                : c.current.map((t) => (
                    <a key={t.taskId} href={`#/jobs/${t.jobId}`}>
                      {t.jobName} {t.frames.length > 0 ? `(${framesText(t.frames)})` : "(video)"}
                    </a>
                  ))}
            </td>
            <td class="num">{c.done}</td>
            <td class="num">{c.failed}</td>
            <td>{ago(c.lastSeen, props.now)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function framesText(frames: number[]): string {
  if (frames.length === 0) return "";
  const first = frames[0] as number;
  const last = frames[frames.length - 1] as number;
  return frames.length === 1 ? `${first}` : `${first}–${last}`;
}

/** The farm: jobs newest first with progress and ETA, clients of both protocols, throughput. */
export function FarmView() {
  const now = useClock();
  const summary = useLive(
    () => api<FarmSummary>("/api/dashboard/summary"),
    (e) => e.type !== "client",
  );
  const clients = useLive(
    () => api<{ clients: DashboardClient[] }>("/api/dashboard/clients"),
    (e) => e.type === "client",
  );
  const s = summary.data;
  return (
    <div class="farm">
      <div class="row">
        <div class="card stats">
          <h3>Farm</h3>
          <div class="stat">
            <b data-testid="job-count">{s?.jobs.length ?? "…"}</b> jobs
          </div>
          <div class="stat">
            <b>{s?.jobs.filter((j) => j.status === "active").length ?? "…"}</b> active
          </div>
          <div class="stat">
            <b>{clients.data?.clients.length ?? "…"}</b> clients
          </div>
        </div>
        {s && <Throughput points={s.throughput} total={s.framesLastHour} />}
      </div>
      <h2>Jobs</h2>
      {summary.error && <p class="error">{summary.error}</p>}
      {s && s.jobs.length === 0 && (
        <p class="muted">No job yet. Submit one from Blender or with `bellwether job submit`.</p>
      )}
      {s && s.jobs.length > 0 && (
        <table class="jobs" data-testid="jobs">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>Priority</th>
              <th class="wide">Progress</th>
              <th>Frames</th>
              <th>ETA</th>
              <th>Submitted</th>
            </tr>
          </thead>
          <tbody>
            {s.jobs.map((j) => (
              <tr key={j.id} data-job={j.id}>
                <td>
                  <a href={`#/jobs/${j.id}`}>{j.name}</a>
                </td>
                <td>
                  <span class={`status status-${j.status}`} data-testid="job-status">
                    {j.status}
                  </span>
                </td>
                <td class="num">{j.priority}</td>
                <td class="wide">
                  <ProgressBar job={j} />
                </td>
                <td class="num" data-testid="job-frames">
                  {j.done}/{j.frameCount}
                  {j.failed > 0 ? <span class="failed"> · {j.failed} failed</span> : null}
                  {j.active > 0 ? <span class="active"> · {j.active} active</span> : null}
                </td>
                <td>{j.status === "completed" ? "done" : duration(j.etaSeconds)}</td>
                <td>{ago(j.created, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Clients</h2>
      {clients.error && <p class="error">{clients.error}</p>}
      {clients.data && <ClientTable clients={clients.data.clients} now={now} />}
    </div>
  );
}
