import { describe, expect, it } from "vitest";
import { type BlackFrameStore, blackVerdict } from "./black-frame-check.js";

function memoryStore(): BlackFrameStore & { barred: string[] } {
  const m = new Map<string, string>();
  const barred: string[] = [];
  return {
    barred,
    candidate: async (j, i) => m.get(`${j}/${i}`) ?? null,
    hold: async (j, i, s) => {
      m.set(`${j}/${i}`, s);
      barred.push(`${s}:${i}`);
    },
    clear: async (j, i) => {
      m.delete(`${j}/${i}`);
    },
  };
}

describe("blackVerdict", () => {
  it("holds the first black upload, accepts a second client's black one", async () => {
    const st = memoryStore();
    expect(await blackVerdict(st, { jobId: "j", index: 2, sessionId: "a", black: true })).toEqual({ kind: "hold" });
    expect(st.barred).toEqual(["a:2"]);
    expect(await blackVerdict(st, { jobId: "j", index: 2, sessionId: "b", black: true })).toEqual({ kind: "accept" });
    expect(await st.candidate("j", 2)).toBeNull();
  });

  it("blames the first client when the second renders colour; not when the pixels could not be checked", async () => {
    const st = memoryStore();
    await blackVerdict(st, { jobId: "j", index: 1, sessionId: "a", black: true });
    expect(await blackVerdict(st, { jobId: "j", index: 1, sessionId: "b", black: false })).toEqual({
      kind: "accept",
      blame: "a",
    });
    await blackVerdict(st, { jobId: "j", index: 3, sessionId: "a", black: true });
    expect(await blackVerdict(st, { jobId: "j", index: 3, sessionId: "b", black: undefined })).toEqual({
      kind: "accept",
    });
  });

  it("accepts colour frames with no candidate and leaves other frames alone", async () => {
    const st = memoryStore();
    expect(await blackVerdict(st, { jobId: "j", index: 0, sessionId: "a", black: false })).toEqual({ kind: "accept" });
    expect(await blackVerdict(st, { jobId: "j", index: 0, sessionId: "a", black: undefined })).toEqual({
      kind: "accept",
    });
    expect(st.barred).toEqual([]);
  });
});
