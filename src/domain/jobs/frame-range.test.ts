import { describe, expect, it } from "vitest";
import { isFarmError } from "../errors.js";
import { FrameList, formatFrameArg } from "./frame-range.js";

describe("FrameList.parse", () => {
  it("parses parts, dedupes, sorts and merges runs", () => {
    const list = FrameList.parse(" 5-7, 1,3 , 6..9, 3");
    expect([...list.frames()]).toEqual([1, 3, 5, 6, 7, 8, 9]);
    expect(list.runs).toEqual([
      [1, 1],
      [3, 3],
      [5, 9],
    ]);
    expect(list.toString()).toBe("1,3,5-9");
  });

  it("cuts chunks as Flamenco does", () => {
    expect([...FrameList.parse("1-10").chunks(3)]).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]);
    expect([...FrameList.parse("1,3,5-7").chunks(2)]).toEqual([[1, 3], [5, 6], [7]]);
  });

  it.each(["", "1-", "a", "5-1", "1,,2", "1-2-3", "99999999"])("rejects %j naming the setting", (spec) => {
    try {
      FrameList.parse(spec, "frames");
      expect.unreachable();
    } catch (err) {
      expect(isFarmError(err, "invalid")).toBe(true);
      expect((err as Error).message).toMatch(/^frames/);
    }
  });

  it("caps the number of frames", () => {
    expect(() => FrameList.parse("1-100", "frames", 50)).toThrow(/more than 50 frames/);
  });

  it("maps indices and frames both ways", () => {
    const list = FrameList.parse("10-12,20,30-31");
    expect(list.length).toBe(6);
    expect([0, 1, 2, 3, 4, 5].map((i) => list.frameAt(i))).toEqual([10, 11, 12, 20, 30, 31]);
    expect([10, 12, 20, 31, 13, 9].map((f) => list.indexOf(f))).toEqual([0, 2, 3, 5, -1, -1]);
    expect(() => list.frameAt(6)).toThrow(RangeError);
  });

  it("handles a million frames without listing them", () => {
    const list = FrameList.parse("1-1000000");
    expect(list.length).toBe(1_000_000);
    expect(list.frameAt(999_999)).toBe(1_000_000);
    expect(list.indexOf(500_000)).toBe(499_999);
  });
});

describe("formatFrameArg", () => {
  it("writes runs with .., pairs with a comma", () => {
    expect(formatFrameArg([1, 2, 3])).toBe("1..3");
    expect(formatFrameArg([5, 6])).toBe("5,6");
    expect(formatFrameArg([7])).toBe("7");
    expect(formatFrameArg([9, 1, 3, 2, 5])).toBe("1..3,5,9");
  });
});

describe("whitespace in frame ranges", () => {
  it("is allowed around numbers and separators", () => {
    expect(FrameList.parse(" 1 - 10 , 20 ").toString()).toBe("1-10,20");
    expect(FrameList.parse("1 .. 3,\t5").toString()).toBe("1-3,5");
  });

  it("is refused inside a number: '1 10' is not frame 110", () => {
    for (const bad of ["1 10", "1-1 0", "- 5", "1 .. 2 3"]) {
      expect(() => FrameList.parse(bad, "settings.frames")).toThrow(/settings\.frames/);
    }
  });
});
