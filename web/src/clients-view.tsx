import { useState } from "preact/hooks";
import { api, type ClientDetail, type DashboardClient } from "./api";
import { ClientTable } from "./farm-view";
import { ago, when } from "./format";
import { useClock, useLive } from "./hooks";

export function ClientsView() {
  const now = useClock();
  const clients = useLive(
    () => api<{ clients: DashboardClient[] }>("/api/dashboard/clients"),
    (e) => e.type === "client",
  );
  return (
    <div>
      <h2>Clients</h2>
      {clients.error && <p class="error">{clients.error}</p>}
      {clients.data && <ClientTable clients={clients.data.clients} now={now} />}
    </div>
  );
}

/** One client: what it renders, its failures and blocklists; sleep/wake a worker, end a SheepIt session. */
export function ClientView(props: { id: string }) {
  const now = useClock();
  const c = useLive(
    () => api<ClientDetail>(`/api/dashboard/clients/${encodeURIComponent(props.id)}`),
    (e) => (e.type === "client" && e.sessionId === props.id) || e.type === "job",
    [props.id],
  );
  const [error, setError] = useState("");
  const act = async (confirmText: string | null, call: () => Promise<unknown>) => {
    if (confirmText && !window.confirm(confirmText)) return;
    setError("");
    try {
      await call();
      c.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  if (!c.data) return <p class={c.error ? "error" : "muted"}>{c.error || "…"}</p>;
  const d = c.data;
  const setStatus = (status: string) =>
    api(`/api/worker-mgt/workers/${d.id}/setstatus`, { method: "POST", body: { status, is_lazy: false } });
  return (
    <div class="client">
      <p>
        <a href="#/clients">← Clients</a>
      </p>
      <h2>
        {d.name}{" "}
        <span class={`status status-${d.status}`} data-testid="client-status">
          {d.status}
        </span>
      </h2>
      <div class="actions">
        {d.protocol === "flamenco" && d.status !== "asleep" && (
          <button type="button" onClick={() => act(null, () => setStatus("asleep"))}>
            Sleep
          </button>
        )}
        {d.protocol === "flamenco" && d.status !== "awake" && (
          <button type="button" onClick={() => act(null, () => setStatus("awake"))}>
            Wake
          </button>
        )}
        {d.protocol === "sheepit" && (
          <button
            type="button"
            class="danger"
            onClick={() =>
              act(
                `End the session of ${d.name}? Its frames go back in line; the client must log in again.`,
                async () => {
                  await api(`/api/dashboard/clients/${encodeURIComponent(d.id)}/end`, { method: "POST" });
                  location.hash = "#/clients";
                },
              )
            }
          >
            End session
          </button>
        )}
        {error && <span class="error"> {error}</span>}
      </div>
      <div class="row">
        <div class="card">
          <h3>About</h3>
          <dl>
            <dt>protocol</dt>
            <dd>{d.protocol}</dd>
            <dt>address</dt>
            <dd>{d.address || "—"}</dd>
            <dt>platform</dt>
            <dd>{d.platform || "—"}</dd>
            <dt>signed on</dt>
            <dd>{when(d.created)}</dd>
            <dt>last seen</dt>
            <dd>{ago(d.lastSeen, now)}</dd>
            <dt>frames done</dt>
            <dd data-testid="client-done">{d.done}</dd>
            <dt>failures</dt>
            <dd>{d.failed}</dd>
          </dl>
        </div>
        <div class="card grow">
          <h3>Renders now</h3>
          {d.current.length === 0 ? (
            <p class="muted">Nothing.</p>
          ) : (
            <ul>
              {d.current.map((t) => (
                <li key={t.taskId}>
                  <a href={`#/jobs/${t.jobId}`}>{t.jobName}</a> frames {t.frames.join(", ") || "(video)"}
                </li>
              ))}
            </ul>
          )}
          <h3>Failures by job</h3>
          {d.failuresByJob.length === 0 ? (
            <p class="muted">None.</p>
          ) : (
            <ul>
              {d.failuresByJob.map((f) => (
                <li key={f.jobId}>
                  <a href={`#/jobs/${f.jobId}`}>{f.jobName}</a>: {f.failed} frames
                </li>
              ))}
            </ul>
          )}
          <h3>Blocklisted from</h3>
          {d.blocklistedFrom.length === 0 ? (
            <p class="muted">No job.</p>
          ) : (
            <ul>
              {d.blocklistedFrom.map((b) => (
                <li key={b.jobId}>
                  <a href={`#/jobs/${b.jobId}`}>{b.jobName}</a>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </div>
  );
}
