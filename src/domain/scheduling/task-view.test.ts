import { describe, expect, it } from "vitest";
import type { Lease } from "./capabilities.js";
import { currentTasks } from "./job-task-list.js";
import { taskName, taskStatus } from "./task-view.js";

describe("taskName", () => {
  it("names chunks as Flamenco writes them", () => {
    expect(taskName({ phase: "render", frames: [1, 2, 3] })).toBe("render-1-3");
    expect(taskName({ phase: "render", frames: [1, 3] })).toBe("render-1,3");
    expect(taskName({ phase: "render", frames: [5, 6] })).toBe("render-5,6");
    expect(taskName({ phase: "render", frames: [7] })).toBe("render-7");
    expect(taskName({ phase: "video", frames: [] })).toBe("frames-to-video");
    const v3Job = {
      type: "simple-blender-render",
      settings: { render_output_path: "/s/out/######", render_output: "/s/out__intermediate-2026-01-02_030405/######" },
    };
    expect(taskName({ phase: "video", frames: [] }, v3Job)).toBe("preview-video");
  });
});

describe("currentTasks", () => {
  const lease = (id: string, indices: number[], state: Lease["state"], phase: Lease["phase"] = "render"): Lease => ({
    id,
    jobId: "j",
    sessionId: "s",
    phase,
    frames: indices.map((i) => i + 1),
    indices,
    taskType: phase === "video" ? "ffmpeg" : "blender",
    created: "",
    updated: "",
    leaseMs: 1,
    state,
    attempt: 1,
  });

  it("shows each piece of work once: a retried chunk's old lease is gone, not queued", () => {
    // newest first: render-1-3 completed on its retry; its first lease was given back
    const list = currentTasks([
      lease("v2", [], "active", "video"),
      lease("v1", [], "soft-failed", "video"),
      lease("c", [0, 1, 2], "completed"),
      lease("d", [3], "released"),
      lease("b", [0, 1, 2], "released"),
      lease("a", [0, 1], "soft-failed"),
    ]);
    expect(list.map((l) => `${taskName(l)}:${taskStatus(l)}`)).toEqual([
      "frames-to-video:active",
      "render-1-3:completed",
      "render-4:queued",
    ]);
  });
});
