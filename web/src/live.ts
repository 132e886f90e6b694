import { authHeaders, refusedListeners } from "./api";

/** A farm event from `GET /api/dashboard/events`. */
export interface FarmEvent {
  type: "job" | "job-deleted" | "client" | "reconnected";
  jobId?: string;
  sessionId?: string;
  /** On a `job` event: the frames that changed (absent: any may have). */
  frames?: Array<{ state: "a" | "d" | "r" | "f"; indices: number[] }>;
}

type Listener = (e: FarmEvent) => void;
const listeners = new Set<Listener>();
const stateListeners = new Set<(connected: boolean) => void>();
let connected = false;

export function onFarmEvent(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function onConnection(l: (connected: boolean) => void): () => void {
  stateListeners.add(l);
  l(connected);
  return () => stateListeners.delete(l);
}

function setConnected(v: boolean) {
  if (v === connected) return;
  connected = v;
  for (const l of stateListeners) l(v);
}

function emit(e: FarmEvent) {
  for (const l of listeners) l(e);
}

let controller: AbortController | null = null;

/**
 * Reads the event stream with fetch (so the control token goes in the Authorization header, never
 * in a URL), reconnects by itself after a second, and tells every view to read again after a
 * reconnect (events sent while it was away are not replayed). A stream silent for twice the
 * server's heartbeat is taken as dead and replaced.
 */
export function startLive(): void {
  controller?.abort();
  const mine = new AbortController();
  controller = mine;
  let heartbeatMs = 15_000;
  let lastData = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - lastData > 2 * heartbeatMs + 2000) mine.abort();
  }, 1000);
  const retry = () => {
    clearInterval(watchdog);
    setConnected(false);
    if (controller === mine) setTimeout(() => controller === mine && startLive(), 1000);
  };
  (async () => {
    const res = await fetch("/api/dashboard/events", {
      headers: { Accept: "text/event-stream", ...authHeaders() },
      signal: mine.signal,
      cache: "no-store",
    });
    if (res.status === 403) {
      for (const l of refusedListeners) l("farm control refused");
      throw new Error("refused");
    }
    if (!res.ok || !res.body) throw new Error(`event stream: ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      lastData = Date.now();
      buf += value;
      let end = buf.indexOf("\n\n");
      while (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        end = buf.indexOf("\n\n");
        let event = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (event === "hello") {
          try {
            heartbeatMs = Number(JSON.parse(data).heartbeatMs) || heartbeatMs;
          } catch {
            // keep the default
          }
          setConnected(true);
          // Whatever changed while away was not replayed: every view reads again.
          emit({ type: "reconnected" });
        } else if (event === "job" || event === "job-deleted" || event === "client") {
          try {
            emit(JSON.parse(data) as FarmEvent);
          } catch {
            // ignore a broken event
          }
        }
      }
    }
  })().then(retry, retry);
}
