import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { type FarmEvent, onFarmEvent, throttle } from "./live";

/**
 * Data read from the API, read again whenever a farm event that `matters` arrives (at most every
 * 150 ms) and after the event stream reconnects.
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
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        const v = await loadRef.current();
        if (alive) {
          setData(v);
          setError("");
        }
      } catch (err) {
        if (alive) setError(err instanceof ApiError ? err.message : String(err));
      } finally {
        running = false;
        if (again && alive) {
          again = false;
          void run();
        }
      }
    };
    void run();
    const soon = throttle(() => void run());
    const off = onFarmEvent((e) => {
      if (e.type === "reconnected" || matters(e)) soon();
    });
    return () => {
      alive = false;
      off();
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
