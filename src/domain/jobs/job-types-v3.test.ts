import { describe, expect, it } from "vitest";
import { isFarmError } from "../errors.js";
import { findJobTypeV3, flamencoTimestamp, jobTypeEtag, jobTypesV3, toDefinition } from "./job-types-v3.js";
import { finalMoveOf } from "./move-to-final.js";

const sbr = findJobTypeV3("simple-blender-render");
const at = new Date("2026-12-01T23:05:09.123Z");
const sub = (settings: Record<string, unknown>, typeEtag?: string) => ({
  name: "shot",
  type: "simple-blender-render",
  ...(typeEtag !== undefined ? { typeEtag } : {}),
  priority: 50,
  metadata: {},
  submitterPlatform: "linux",
  settings: {
    frames: "1-3",
    render_output_root: "/farm/out",
    add_path_components: 0,
    render_output_path: "/farm/out/shot/{timestamp}/######",
    blendfile: "/farm/shot.blend",
    format: "PNG",
    image_file_extension: ".png",
    ...settings,
  },
});

describe("Flamenco 3 job types", () => {
  it("have an etag that is stable and changes with the settings definition", () => {
    if (!sbr) throw new Error("no simple-blender-render");
    expect(jobTypeEtag(sbr)).toBe(jobTypeEtag(structuredClone(sbr)));
    const changed = { ...sbr, settings: sbr.settings.map((s) => (s.key === "fps" ? { ...s, default: 30 } : s)) };
    expect(jobTypeEtag(changed)).not.toBe(jobTypeEtag(sbr));
    expect(new Set(jobTypesV3.map(jobTypeEtag)).size).toBe(jobTypesV3.length);
  });

  it("translate 3.x settings into the farm's job definition, {timestamp} as 2006-01-02_150405", () => {
    expect(flamencoTimestamp(at)).toBe("2026-12-01_230509");
    const def = toDefinition(sub({ fps: 23.976 }), at);
    expect(def.settings).toMatchObject({
      filepath: "/farm/shot.blend",
      // Rendered into the intermediate folder beside the final one (moved there at the end).
      render_output: "/farm/out/shot/2026-12-01_230509__intermediate-2026-12-01_230509/######",
      render_output_path: "/farm/out/shot/2026-12-01_230509/######",
      output_file_extension: ".png",
      fps: 23.976,
      chunk_size: 1,
      images_or_video: "images",
      blender_cmd: "{blender}",
    });
    expect(def.metadata["flamenco.submitter_platform"]).toBe("linux");
    expect(finalMoveOf({ type: def.type, settings: def.settings })).toEqual({
      src: "/farm/out/shot/2026-12-01_230509__intermediate-2026-12-01_230509",
      dest: "/farm/out/shot/2026-12-01_230509",
    });
  });

  it("give a video output no preview-video, and refuse a final folder that is the storage root", () => {
    expect(toDefinition(sub({ fps: 24, images_or_video: "video" }), at).settings.fps).toBeUndefined();
    expect(toDefinition(sub({ fps: 24 }), at).settings.fps).toBe(24);
    expect(() => toDefinition(sub({ render_output_path: "######" }), at)).toThrow(/folder below/);
    expect(() =>
      toDefinition(sub({ render_output_path: "/farm/out/######", blendfile: "/farm/out/a/s.blend" }), at),
    ).toThrow(/above the blend file/);
    // A 2022 job (no render_output_path, or a plain folder) has no move.
    expect(
      finalMoveOf({ type: "simple-blender-render", settings: { render_output: "/farm/out/x/######" } }),
    ).toBeNull();
    expect(
      finalMoveOf({
        type: "simple-blender-render",
        settings: { render_output: "/farm/out/x/######", render_output_path: "/farm/out/x/######" },
      }),
    ).toBeNull();
  });

  it("refuse a stale etag (staleEtag), a missing 3.x setting and a wrong type", () => {
    const etag = sbr ? jobTypeEtag(sbr) : "";
    expect(toDefinition(sub({}, etag), at).type).toBe("simple-blender-render");
    const stale = (() => {
      try {
        toDefinition(sub({}, "stale"), at);
      } catch (err) {
        return err;
      }
    })();
    expect(isFarmError(stale, "invalid") && stale.details.staleEtag).toBe(true);
    expect(() => toDefinition(sub({ blendfile: undefined }), at)).toThrow(/settings.blendfile is required/);
    expect(() => toDefinition(sub({ add_path_components: "0" }), at)).toThrow(/32-bit integer/);
    expect(() => toDefinition({ ...sub({}), type: "nope" }, at)).toThrow(/unknown job type/);
  });
});
