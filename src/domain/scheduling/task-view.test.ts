import { describe, expect, it } from "vitest";
import { taskName } from "./task-view.js";

describe("taskName", () => {
  it("names chunks as Flamenco writes them", () => {
    expect(taskName({ phase: "render", frames: [1, 2, 3] })).toBe("render-1-3");
    expect(taskName({ phase: "render", frames: [1, 3] })).toBe("render-1,3");
    expect(taskName({ phase: "render", frames: [5, 6] })).toBe("render-5,6");
    expect(taskName({ phase: "render", frames: [7] })).toBe("render-7");
    expect(taskName({ phase: "video", frames: [] })).toBe("frames-to-video");
  });
});
