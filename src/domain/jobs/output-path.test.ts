import { describe, expect, it } from "vitest";
import { frameOutputPath, outputDir } from "./output-path.js";

describe("frameOutputPath", () => {
  it("appends four digits when there is no #", () => {
    expect(frameOutputPath("/farm/out/shot_", 7, ".png")).toBe("/farm/out/shot_0007.png");
    expect(frameOutputPath("/farm/out/shot_", 12345, ".png")).toBe("/farm/out/shot_12345.png");
  });
  it("replaces the last run of # padded to its length", () => {
    expect(frameOutputPath("/farm/out/######", 42, ".exr")).toBe("/farm/out/000042.exr");
    expect(frameOutputPath("/farm/##/f_###_x", 5, ".png")).toBe("/farm/##/f_005_x.png");
  });
  it("writes negative frames with a sign on top of the digits, as printf's %.*d does", () => {
    expect(frameOutputPath("/o/f_", -3, ".png")).toBe("/o/f_-0003.png");
    expect(frameOutputPath("/o/f_####", -5, ".png")).toBe("/o/f_-0005.png");
  });
  it("ignores # in folder names", () => {
    expect(frameOutputPath("/farm/shot##/beauty_", 12, ".png")).toBe("/farm/shot##/beauty_0012.png");
  });
  it("knows the output folder", () => {
    expect(outputDir("/farm/out/######")).toBe("/farm/out");
  });
});
