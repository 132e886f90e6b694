import { describe, expect, it } from "vitest";
import type { Job } from "./job.js";
import { splitCommandLine, taskCommands, toolsFor, videoFiles } from "./task-commands.js";

const tools = {
  linux: { blender: "blender --factory-startup --background", ffmpeg: "ffmpeg" },
  windows: {
    blender: '"C:\\Program Files\\Blender\\blender.exe" --factory-startup --background',
    ffmpeg: "ffmpeg.exe",
  },
};

const job = {
  id: "4b8e0c4e-8a0e-4a8b-9a6a-7d7b0c5f2d11",
  name: "shot",
  type: "simple-blender-render",
  settings: {
    blender_cmd: "{blender}",
    filepath: "/farm/jobs/scene123.flamenco.blend",
    render_output: "/farm/frames/scene123/######",
    frames: "1-10",
    format: "PNG",
    output_file_extension: ".png",
    fps: 30,
  },
} as unknown as Job;

describe("splitCommandLine", () => {
  it("splits on whitespace and keeps quoted words whole, backslashes as they are", () => {
    expect(splitCommandLine("blender  --factory-startup --background")).toEqual([
      "blender",
      "--factory-startup",
      "--background",
    ]);
    expect(splitCommandLine('"C:\\Program Files\\b.exe" -b \'x y\' ""')).toEqual([
      "C:\\Program Files\\b.exe",
      "-b",
      "x y",
      "",
    ]);
  });
});

describe("taskCommands", () => {
  it("builds blender-render for a chunk with the platform's blender", () => {
    const [cmd] = taskCommands(job, { phase: "render", frames: [4, 5, 6] }, toolsFor(tools, "Windows"));
    expect(cmd).toEqual({
      name: "blender-render",
      parameters: {
        exe: "C:\\Program Files\\Blender\\blender.exe",
        argsBefore: ["--factory-startup", "--background"],
        blendfile: "/farm/jobs/scene123.flamenco.blend",
        args: ["--render-output", "/farm/frames/scene123/######", "--render-format", "PNG", "--render-frame", "4..6"],
      },
    });
  });

  it("builds frames-to-video reading the frames' folder, with the job's fps", () => {
    const [cmd] = taskCommands(job, { phase: "video", frames: [] }, toolsFor(tools, "linux"));
    expect(cmd?.name).toBe("frames-to-video");
    expect(cmd?.parameters).toMatchObject({
      exe: "ffmpeg",
      fps: 30,
      inputGlob: "/farm/frames/scene123/*.png",
      outputFile: "/farm/frames/scene123/scene123-1-10.mp4",
    });
    expect(videoFiles(job).outputFile).toBe("/farm/frames/scene123/scene123-1-10.mp4");
  });

  it("reads only this job's frames when the folder is shared: the name before the frame number, glob-escaped", () => {
    const shared = { ...job, settings: { ...job.settings, render_output: "/farm/frames/scene/shot_[a]-####-v2" } };
    expect(videoFiles(shared).inputGlob).toBe("/farm/frames/scene/shot_\\[a\\]-*.png");
    const bare = { ...job, settings: { ...job.settings, render_output: "/farm/frames/scene/take" } };
    expect(videoFiles(bare).inputGlob).toBe("/farm/frames/scene/take*.png");
  });

  it("falls back to the linux tools for an unknown platform", () => {
    expect(toolsFor(tools, "plan9")).toBe(tools.linux);
  });
});

describe("frames-to-video arguments", () => {
  it("gives the input rate before -i and the same output rate", () => {
    const [cmd] = taskCommands(job, { phase: "video", frames: [] }, toolsFor(tools, "linux"));
    expect(cmd?.parameters.argsBefore).toEqual(["-framerate", "30"]);
    const args = cmd?.parameters.args as string[];
    expect(args[args.indexOf("-r") + 1]).toBe("30");
    const ntsc = { ...job, settings: { ...job.settings, fps: 29.97 } } as Job;
    const [c2] = taskCommands(ntsc, { phase: "video", frames: [] }, toolsFor(tools, "linux"));
    expect(c2?.parameters.argsBefore).toEqual(["-framerate", "30000/1001"]);
    expect(c2?.parameters.fps).toBe(29.97);
  });
});
