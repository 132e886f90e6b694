import { describe, expect, it } from "vitest";
import { encodeFrameStates } from "./frame-states.js";
import { etaSeconds, recentRate, throughput } from "./progress.js";

describe("dashboard progress", () => {
  it("measures a job's rate over its recent minutes, not before it was created", () => {
    const now = 1_000 * 60_000;
    const minutes = Array.from({ length: 60 }, (_, k) => ({ minute: 941 + k, counts: {} as Record<string, string> }));
    minutes[59] = { minute: 1000, counts: { j: "6", "*": "9" } };
    expect(recentRate(minutes, "j", now - 120_000, now)).toBe(3);
    expect(recentRate(minutes, "j", 0, now)).toBeCloseTo(0.6);
    expect(recentRate(minutes, "other", 0, now)).toBe(0);
    expect(throughput(minutes).at(-1)).toEqual({ minute: new Date(now).toISOString(), frames: 9 });
  });

  it("answers an ETA only while frames are being done", () => {
    expect(etaSeconds(30, 3)).toBe(600);
    expect(etaSeconds(30, 0)).toBeNull();
    expect(etaSeconds(0, 0)).toBe(0);
  });

  it("encodes frame states one letter per frame and finds the frame done last", () => {
    const enc = encodeFrameStates(6, {
      "0": "c|s|l|100",
      "1": "a|s|l|5",
      "2": "s|s|l|7",
      "3": "f|s|l|8",
      "4": "c|s|l|200",
      x: "c",
    });
    expect(enc.states).toBe("darfdq");
    expect(enc.counts).toEqual({ q: 1, a: 1, d: 2, r: 1, f: 1 });
    expect(enc.lastDone).toBe(4);
  });
});
