import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { type FarmEvent, onFarmEvent } from "./live";

/**
 * Data read from the API, read again whenever a farm event that `matters` arrives and after the
 * event stream reconnects: at most every 150 ms, or every four times as long as the last read
 * took, so a view that is costly to read (1,000 clients) is read less often on a busy farm.
 */
export function useLive<T>(
  load: () => Promise<T>,
  matters: (e: FarmEvent) => boolean,
  deps: unknown[] = [],
): { data: T | null; error: string; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState("");
  const loadRef = useRef(load);
  loadRef.current = load;
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    let running = false;
    let again = false;
    let lastMs = 0;
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      const t0 = performance.now();
      try {
        const v = await loadRef.current();
        if (alive) {
          setData(v);
          setError("");
        }
      } catch (err) {
        if (alive) setError(err instanceof ApiError ? err.message : String(err));
      } finally {
        lastMs = performance.now() - t0;
        running = false;
        if (again && alive) {
          again = false;
          void run();
        }
      }
    };
    void run();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const soon = () => {
      if (timer) return;
      timer = setTimeout(
        () => {
          timer = null;
          void run();
        },
        Math.max(150, 4 * lastMs),
      );
    };
    const off = onFarmEvent((e) => {
      if (e.type === "reconnected" || matters(e)) soon();
    });
    return () => {
      alive = false;
      off();
      if (timer) clearTimeout(timer);
    };
    // biome-ignore lint/correctness/useExhaustiveDependencies: reloads follow `deps` and `tick`
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

/** Re-renders every `ms` (relative times such as "seen 3 s ago"). */
export function useClock(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
