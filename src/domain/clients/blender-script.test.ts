import { describe, expect, it } from "vitest";
import { blenderFileFormat, blenderScript } from "./blender-script.js";

describe("blenderFileFormat", () => {
  it("gives Python's image_settings.file_format for every spelling a job may use", () => {
    expect(blenderFileFormat("PNG")).toBe("PNG");
    expect(blenderFileFormat("EXR")).toBe("OPEN_EXR");
    expect(blenderFileFormat("MULTILAYER")).toBe("OPEN_EXR_MULTILAYER");
    expect(blenderFileFormat("OPEN_EXR_MULTILAYER")).toBe("OPEN_EXR_MULTILAYER");
    expect(blenderScript({ format: "MULTILAYER", useGpu: false })).toContain('file_format = "OPEN_EXR_MULTILAYER"');
  });
});
