/** A server-sent event as a reader of the dashboard's stream sees it. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Reads a server-sent event stream with fetch (headers allowed, as the dashboard does): events
 * collect in `events`; `next(pred)` resolves with the first event (seen or to come) that matches.
 */
export async function openSse(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  const waiters: Array<{ pred: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }> = [];
  const pump = async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let end = buf.indexOf("\n\n");
        while (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const e: SseEvent = { event: "message", data: "" };
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) e.event = line.slice(6).trim();
            else if (line.startsWith("data:")) e.data += line.slice(5).trim();
          }
          events.push(e);
          for (const w of waiters.splice(0)) {
            if (w.pred(e)) w.resolve(e);
            else waiters.push(w);
          }
          end = buf.indexOf("\n\n");
        }
      }
    } catch {
      // aborted
    }
  };
  if (res.ok) void pump();
  return {
    status: res.status,
    res,
    events,
    next(pred: (e: SseEvent) => boolean): Promise<SseEvent> {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    close() {
      abort.abort();
    },
  };
}
