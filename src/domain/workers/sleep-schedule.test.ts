import { describe, expect, it } from "vitest";
import { normaliseSleepSchedule, type SleepSchedule, scheduledStatus, scheduleRequest } from "./sleep-schedule.js";

// Local-time dates: 2026-01-05 is a Monday.
const monday = (h: number, m = 0) => new Date(2026, 0, 5, h, m);
const sunday = (h: number, m = 0) => new Date(2026, 0, 4, h, m);
const office: SleepSchedule = { isActive: true, daysOfWeek: "mo tu th fr", startTime: "09:00", endTime: "18:00" };

describe("scheduledStatus", () => {
  it("is asleep inside the window on a listed day, awake outside it, null when inactive", () => {
    expect(scheduledStatus(office, monday(8, 59))).toBe("awake");
    expect(scheduledStatus(office, monday(9, 0))).toBe("asleep");
    expect(scheduledStatus(office, monday(17, 59))).toBe("asleep");
    expect(scheduledStatus(office, monday(18, 0))).toBe("awake");
    expect(scheduledStatus(office, sunday(12))).toBe("awake");
    expect(scheduledStatus({ ...office, isActive: false }, monday(12))).toBeNull();
    expect(scheduledStatus(null, monday(12))).toBeNull();
  });

  it("takes no days as every day, empty times and 24:00 as the day's ends, and wraps past midnight", () => {
    const allDay = { isActive: true, daysOfWeek: "", startTime: "00:00", endTime: "24:00" };
    for (const h of [0, 12, 23]) expect(scheduledStatus(allDay, sunday(h, 59))).toBe("asleep");
    expect(scheduledStatus({ ...allDay, startTime: "", endTime: "" }, monday(23, 59))).toBe("asleep");
    const night = { isActive: true, daysOfWeek: "", startTime: "22:00", endTime: "06:00" };
    expect(scheduledStatus(night, monday(23))).toBe("asleep");
    expect(scheduledStatus(night, monday(5, 59))).toBe("asleep");
    expect(scheduledStatus(night, monday(6))).toBe("awake");
    expect(scheduledStatus(night, monday(21, 59))).toBe("awake");
  });
});

describe("normaliseSleepSchedule", () => {
  it("orders and lower-cases the days; refuses other days and times", () => {
    expect(normaliseSleepSchedule({ ...office, daysOfWeek: "FR mo  mo,tu" }).daysOfWeek).toBe("mo tu fr");
    expect(() => normaliseSleepSchedule({ ...office, daysOfWeek: "monday" })).toThrow(/two-letter days/);
    expect(() => normaliseSleepSchedule({ ...office, startTime: "24:00" })).toThrow(/start_time/);
    expect(() => normaliseSleepSchedule({ ...office, endTime: "9:00" })).toThrow(/end_time/);
    expect(() => normaliseSleepSchedule({ ...office, endTime: "12:60" })).toThrow(/end_time/);
    expect(normaliseSleepSchedule({ ...office, endTime: "24:00" }).endTime).toBe("24:00");
  });
});

describe("scheduleRequest", () => {
  it("asks for the scheduled status at once, unless the worker has it or is already asked for it", () => {
    expect(scheduleRequest(office, "awake", null, monday(10))).toEqual({ status: "asleep", lazy: false });
    expect(scheduleRequest(office, "asleep", null, monday(10))).toBeUndefined();
    expect(scheduleRequest(office, "awake", { status: "asleep", lazy: false }, monday(10))).toBeUndefined();
    expect(scheduleRequest(office, "awake", { status: "asleep", lazy: true }, monday(10))).toEqual({
      status: "asleep",
      lazy: false,
    });
    // Outside the window an asleep worker is woken; an operator's request to sleep is overridden.
    expect(scheduleRequest(office, "asleep", null, monday(19))).toEqual({ status: "awake", lazy: false });
    expect(scheduleRequest(office, "awake", { status: "asleep", lazy: false }, monday(19))).toBeNull();
    // Inactive: the schedule leaves everything as it is.
    expect(scheduleRequest({ ...office, isActive: false }, "awake", null, monday(10))).toBeUndefined();
  });
});
