import { useState } from "preact/hooks";
import { api, type FarmSummary, type FlamencoJob, frameAt, type JobTasks } from "./api";
import { framesText, ProgressBar } from "./farm-view";
import { duration, when } from "./format";
import { FrameGrid } from "./frame-grid";
import { useLive } from "./hooks";
import { useLiveFrames } from "./live-frames";
import { Thumb, taskLog } from "./thumbs";

const THUMBS_SHOWN = 24;

function Actions(props: { job: FlamencoJob; onDone: () => void; onDeleted: () => void }) {
  const [busy, setBusy] = useState("");
  const [error, setError] = useState("");
  const { job } = props;
  const run = async (what: string, destroys: string | null, call: () => Promise<unknown>) => {
    if (destroys && !window.confirm(destroys)) return;
    setBusy(what);
    setError("");
    try {
      await call();
      props.onDone();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy("");
    }
  };
  const setStatus = (status: string, reason: string) =>
    api(`/api/jobs/${job.id}/setstatus`, { method: "POST", body: { status, reason } });
  const s = job.status;
  return (
    <div class="actions">
      {["queued", "active", "requeued"].includes(s) && (
        <button
          type="button"
          disabled={!!busy}
          onClick={() => run("pause", null, () => setStatus("paused", "paused from the dashboard"))}
        >
          Pause
        </button>
      )}
      {s === "paused" && (
        <button
          type="button"
          disabled={!!busy}
          onClick={() => run("resume", null, () => setStatus("queued", "resumed from the dashboard"))}
        >
          Resume
        </button>
      )}
      {["queued", "active", "paused", "requeued"].includes(s) && (
        <button
          type="button"
          class="danger"
          disabled={!!busy}
          onClick={() =>
            run("cancel", `Cancel "${job.name}"? Frames being rendered are taken back.`, () =>
              setStatus("cancel-requested", "canceled from the dashboard"),
            )
          }
        >
          Cancel
        </button>
      )}
      {["completed", "failed", "canceled", "paused"].includes(s) && (
        <button
          type="button"
          disabled={!!busy}
          onClick={() =>
            run(
              "requeue",
              s === "completed" ? `Requeue "${job.name}"? Every frame is rendered again, over the files there.` : null,
              () => setStatus("requeued", "requeued from the dashboard"),
            )
          }
        >
          Requeue
        </button>
      )}
      <button
        type="button"
        disabled={!!busy}
        onClick={() => {
          const v = window.prompt("Priority (0–1000000, higher first)", String(job.priority));
          if (v === null) return;
          void run("priority", null, () =>
            api(`/api/jobs/${job.id}/setpriority`, { method: "POST", body: { priority: Number(v) } }),
          );
        }}
      >
        Priority…
      </button>
      <button
        type="button"
        class="danger"
        disabled={!!busy}
        onClick={() =>
          run("delete", `Delete "${job.name}"? Its frames leave the queue (rendered files stay on disk).`, async () => {
            await api(`/api/jobs/${job.id}`, { method: "DELETE" });
            props.onDeleted();
          })
        }
      >
        Delete
      </button>
      {busy && <span class="muted"> {busy}…</span>}
      {error && <span class="error"> {error}</span>}
    </div>
  );
}

function Tasks(props: { jobId: string }) {
  const tasks = useLive(
    () => api<JobTasks>(`/api/jobs/${props.jobId}/tasks?limit=200`),
    (e) => e.type === "job" && e.jobId === props.jobId,
    [props.jobId],
  );
  const [log, setLog] = useState<{ id: string; text: string } | null>(null);
  if (!tasks.data) return <p class="muted">{tasks.error || "…"}</p>;
  return (
    <>
      <table class="tasks" data-testid="tasks">
        <thead>
          <tr>
            <th>Task</th>
            <th>Status</th>
            <th>Frames</th>
            <th>Attempt</th>
            <th>Held by</th>
            <th>Updated</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {tasks.data.tasks.map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td>
                <span class={`status status-${t.status}`}>{t.status}</span>
              </td>
              <td>{framesText(t.frames) || t.task_type}</td>
              <td class="num">{t.attempt}</td>
              <td>{t.worker ? `${t.worker.name} (${t.worker.protocol})` : (t.activity ?? "—")}</td>
              <td>{when(t.updated)}</td>
              <td>
                <button
                  type="button"
                  class="small"
                  onClick={async () => setLog({ id: t.id, text: await taskLog(t.id) })}
                >
                  Log
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {log && (
        <div class="card log">
          <h3>
            Log of task {log.id.slice(0, 8)}{" "}
            <button type="button" class="small" onClick={() => setLog(null)}>
              close
            </button>
          </h3>
          <pre data-testid="task-log">{log.text || "(empty)"}</pre>
        </div>
      )}
    </>
  );
}

/** One job: settings, every frame on a canvas, previews, tasks with their logs, actions. */
export function JobView(props: { id: string }) {
  const { id } = props;
  const mine = (e: { type: string; jobId?: string }) =>
    (e.type === "job" || e.type === "job-deleted") && e.jobId === id;
  const job = useLive(() => api<FlamencoJob>(`/api/jobs/${id}`), mine, [id]);
  const frames = useLiveFrames(id);
  const summary = useLive(() => api<FarmSummary>("/api/dashboard/summary"), mine, [id]);
  const [picked, setPicked] = useState(-1);
  const row = summary.data?.jobs.find((j) => j.id === id);
  if (job.error && !job.data) return <p class="error">{job.error}</p>;
  if (!job.data) return <p class="muted">…</p>;
  const j = job.data;
  const f = frames.frames;
  const done: number[] = [];
  if (f)
    for (let i = f.frameCount - 1; i >= 0 && done.length < THUMBS_SHOWN; i--) if (f.letter(i) === "d") done.push(i);
  done.reverse();
  const large = picked >= 0 ? picked : (f?.lastDone ?? -1);
  const settings = Object.entries(j.settings ?? {});
  return (
    <div class="job">
      <p>
        <a href="#/">← Farm</a>
      </p>
      <h2>
        {j.name}{" "}
        <span class={`status status-${j.status}`} data-testid="job-status">
          {j.status}
        </span>
      </h2>
      <Actions job={j} onDone={() => job.reload()} onDeleted={() => (location.hash = "#/")} />
      {row && (
        <div class="card">
          <ProgressBar job={row} />
          <p data-testid="job-progress">
            {row.done} of {row.frameCount} frames done · {row.failed} failed · {row.active} active · {row.queued} queued
            · ETA {row.status === "completed" ? "done" : duration(row.etaSeconds)} · {row.framesPerMinute} frames/min
            {row.hasVideo ? ` · video: ${row.videoState || "waits for the frames"}` : ""}
          </p>
        </div>
      )}
      <div class="row">
        <div class="card grow">
          <h3>Frames</h3>
          {f ? (
            <FrameGrid frames={f} version={frames.version} picked={picked} onPick={setPicked} />
          ) : (
            <p class="muted">{frames.error || "…"}</p>
          )}
        </div>
        <div class="card">
          <h3>{picked >= 0 ? "Picked frame" : "Last rendered"}</h3>
          {f && large >= 0 ? (
            <Thumb
              jobId={id}
              index={large}
              size="large"
              label={`frame ${frameAt(f.runs, large)}`}
              version={f.letter(large)}
            />
          ) : (
            <p class="muted">No frame rendered yet.</p>
          )}
        </div>
      </div>
      <div class="card">
        <h3>Rendered frames</h3>
        <div class="thumbs" data-testid="thumbs">
          {f && done.length === 0 && <p class="muted">None yet.</p>}
          {f &&
            done.map((i) => (
              <button type="button" class="thumb-button" key={i} onClick={() => setPicked(i)}>
                <Thumb jobId={id} index={i} label={`${frameAt(f.runs, i)}`} />
              </button>
            ))}
        </div>
      </div>
      <div class="row">
        <div class="card grow">
          <h3>Tasks</h3>
          <Tasks jobId={id} />
        </div>
        <div class="card settings">
          <h3>Settings</h3>
          <dl>
            <dt>type</dt>
            <dd>{j.type}</dd>
            <dt>priority</dt>
            <dd data-testid="job-priority">{j.priority}</dd>
            <dt>submitted</dt>
            <dd>{when(j.created)}</dd>
            {settings.map(([k, v]) => (
              <>
                <dt key={`k${k}`}>{k}</dt>
                <dd key={`v${k}`}>{typeof v === "string" ? v : JSON.stringify(v)}</dd>
              </>
            ))}
          </dl>
        </div>
      </div>
    </div>
  );
}
