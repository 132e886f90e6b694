import { describe, expect, it } from "vitest";
import { checkedImageFor, validateOutputFormat } from "./output-formats.js";

describe("validateOutputFormat", () => {
  it.each([
    ["PNG", ".png", "PNG"],
    ["png", ".png", "PNG"],
    ["JPEG", ".jpg", "JPEG"],
    ["JPEG", ".jpeg", "JPEG"],
    ["TIFF", ".tif", "TIFF"],
    ["TIFF", ".TIFF", "TIFF"],
    ["OPEN_EXR", ".exr", "OPEN_EXR"],
    ["EXR", ".exr", "EXR"],
    ["OPEN_EXR_MULTILAYER", ".exr", "OPEN_EXR_MULTILAYER"],
    ["MULTILAYER", ".exr", "MULTILAYER"],
  ])("accepts %s with %s", (format, ext, spelled) => {
    expect(validateOutputFormat(format, ext)).toBe(spelled);
  });

  it("refuses a format Blender does not know, naming both settings", () => {
    expect(() => validateOutputFormat("BOGUS", ".png")).toThrow(/settings\.format.*settings\.output_file_extension/);
  });

  it("refuses an extension that does not fit the format, naming both settings", () => {
    expect(() => validateOutputFormat("PNG", ".jpg")).toThrow(/settings\.output_file_extension.*settings\.format PNG/);
    expect(() => validateOutputFormat("OPEN_EXR", ".png")).toThrow(/expected \.exr/);
  });

  it.each([".blend", ".py", ".sh", "", "png", ".xyz"])("refuses %j: the farm writes only frames", (ext) => {
    expect(() => validateOutputFormat("PNG", ext)).toThrow(/settings\.output_file_extension .*only frames/);
  });

  it("refuses formats Blender knows but the farm cannot check, saying which it takes", () => {
    for (const f of ["BMP", "TGA", "WEBP", "JP2", "HDR", "DPX"]) {
      expect(() => validateOutputFormat(f, ".png")).toThrow(/cannot check.*PNG, JPEG, TIFF, OPEN_EXR/);
    }
  });

  it("refuses movie formats: frames only", () => {
    for (const f of ["AVIRAW", "AVIJPEG", "MPEG"]) {
      expect(() => validateOutputFormat(f, ".png")).toThrow(/movie format; the farm renders frames only/);
    }
  });

  it("maps every frame extension to the image an upload must decode as, and nothing else", () => {
    expect(checkedImageFor(".JPG")).toBe("jpeg");
    expect(checkedImageFor(".exr")).toBe("exr");
    expect(checkedImageFor(".blend")).toBeNull();
  });
});
