import { useEffect, useState } from "preact/hooks";
import { authHeaders, imageUrl } from "./api";

const cache = new Map<string, Promise<string | null>>();

/** A protected preview, fetched once with the token header and kept as an object URL. */
export function Thumb(props: {
  jobId: string;
  index: number;
  size?: "small" | "large";
  label: string;
  version?: string;
}) {
  const size = props.size ?? "small";
  const key = `${props.jobId}/${props.index}/${size}/${props.version ?? ""}`;
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    let p = cache.get(key);
    if (!p) {
      p = imageUrl(`/api/dashboard/jobs/${props.jobId}/frames/${props.index}/thumbnail?size=${size}`);
      cache.set(key, p);
      // A frame without a preview yet may get one later: forget the miss.
      void p.then((v) => v === null && cache.delete(key));
    }
    void p.then((v) => alive && setSrc(v));
    return () => {
      alive = false;
    };
  }, [key]);
  return (
    <figure
      class={`thumb thumb-${size}`}
      data-testid={size === "large" ? "last-rendered" : "thumb"}
      data-loaded={src ? "yes" : "no"}
    >
      {src ? <img src={src} alt={props.label} /> : <div class="thumb-empty">no preview</div>}
      <figcaption>{props.label}</figcaption>
    </figure>
  );
}

/** Reads a task log with the token header. */
export async function taskLog(taskId: string): Promise<string> {
  const res = await fetch(`/api/tasks/${taskId}/log`, { headers: authHeaders() });
  return res.ok ? res.text() : `(no log: ${res.status})`;
}
