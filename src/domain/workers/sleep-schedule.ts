import { invalid } from "../errors.js";
import type { StatusRequest, WorkerStatus } from "./worker.js";

/**
 * A worker's sleep schedule, as Flamenco 3 keeps it (`WorkerSleepSchedule`): while it is active,
 * the worker is asleep from `startTime` to `endTime` (24-hour `HH:MM`, the gateway's local time)
 * on the listed days (`mo tu we th fr sa su`; none listed: every day), and awake otherwise.
 * `""` as start is midnight, `""` or `24:00` as end is the end of the day; an end before the start
 * wraps past midnight (`22:00`–`06:00`: asleep through the night).
 */
export interface SleepSchedule {
  isActive: boolean;
  /** Space-separated two-letter days, lower case, in week order; "" for every day. */
  daysOfWeek: string;
  startTime: string;
  endTime: string;
}

const DAYS = ["su", "mo", "tu", "we", "th", "fr", "sa"] as const;
const WEEK_ORDER = ["mo", "tu", "we", "th", "fr", "sa", "su"];
const TIME_RE = /^(\d{2}):(\d{2})$/;

/** Minutes since midnight of `HH:MM`; `empty` for "". Throws `invalid` for anything else. */
function minutesOf(field: string, value: string, empty: number, allow24: boolean): number {
  if (value.trim() === "") return empty;
  const m = TIME_RE.exec(value.trim());
  const h = Number(m?.[1]);
  const min = Number(m?.[2]);
  const ok = m && min < 60 && (h < 24 || (allow24 && h === 24 && min === 0));
  if (!ok) throw invalid(field, `${field} must be a time of day as HH:MM (00:00 to 23:59), not "${value}"`);
  return h * 60 + min;
}

/** Checks and normalises a schedule (days lower case, in week order, no repeats); throws `invalid`. */
export function normaliseSleepSchedule(s: SleepSchedule): SleepSchedule {
  const days = s.daysOfWeek
    .toLowerCase()
    .split(/[\s,]+/)
    .filter(Boolean);
  for (const d of days) {
    if (!WEEK_ORDER.includes(d)) {
      throw invalid("days_of_week", `days_of_week lists two-letter days (mo tu we th fr sa su), not "${d}"`);
    }
  }
  minutesOf("start_time", s.startTime, 0, false);
  minutesOf("end_time", s.endTime, 24 * 60, true);
  return {
    isActive: s.isActive,
    daysOfWeek: WEEK_ORDER.filter((d) => days.includes(d)).join(" "),
    startTime: s.startTime.trim(),
    endTime: s.endTime.trim(),
  };
}

/** The status the schedule wants at `now`: asleep inside its window, awake outside; null when inactive. */
export function scheduledStatus(s: SleepSchedule | null, now: Date): "asleep" | "awake" | null {
  if (!s?.isActive) return null;
  const days = s.daysOfWeek.split(" ").filter(Boolean);
  if (days.length > 0 && !days.includes(DAYS[now.getDay()] as string)) return "awake";
  const start = minutesOf("start_time", s.startTime, 0, false);
  const end = minutesOf("end_time", s.endTime, 24 * 60, true);
  const t = now.getHours() * 60 + now.getMinutes();
  const inside = start <= end ? t >= start && t < end : t >= start || t < end;
  return inside ? "asleep" : "awake";
}

/**
 * The status request the schedule makes of a worker at `now`, as Flamenco's sleep scheduler does:
 * an immediate request for the scheduled status unless the worker already has it (and nothing
 * else is asked of it) or is already asked for it. While a schedule is active it overrides an
 * operator's request for the other status. `undefined`: leave the request as it is.
 */
export function scheduleRequest(
  s: SleepSchedule | null,
  status: WorkerStatus,
  request: StatusRequest | null,
  now: Date,
): StatusRequest | null | undefined {
  const want = scheduledStatus(s, now);
  if (!want) return undefined;
  if (request?.status === want && !request.lazy) return undefined;
  if (status === want) return request ? null : undefined;
  return { status: want, lazy: false };
}
