import { describe, expect, it } from "vitest";
import {
  claimsClash,
  outputClaimOf,
  refuseParentSegments,
  requireFolderBelowRoot,
  validateCommands,
} from "./job-validation.js";

describe("validateCommands", () => {
  it("takes the platform's command and nothing else by default", () => {
    expect(() => validateCommands({ blender_cmd: "{blender}" })).not.toThrow();
    expect(() => validateCommands({})).not.toThrow();
    for (const cmd of ["/bin/sh -c 'id > /tmp/x' #", "{blender} --python-expr x", "blender", "{ffmpeg}", ""]) {
      expect(() => validateCommands({ blender_cmd: cmd })).toThrow(/settings\.blender_cmd must be "\{blender\}"/);
    }
    expect(() => validateCommands({ blender_cmd: 7 })).toThrow(/blender_cmd/);
    expect(() => validateCommands({ ffmpeg_cmd: "/bin/sh" })).toThrow(/settings\.ffmpeg_cmd must be "\{ffmpeg\}"/);
  });

  it("takes exactly the commands the operator allows", () => {
    const allowed = ["{blender} --debug-cycles", "/opt/blender-4/blender --background"];
    expect(() => validateCommands({ blender_cmd: "{blender} --debug-cycles" }, allowed)).not.toThrow();
    expect(() => validateCommands({ blender_cmd: "{blender} --debug-cycles " }, allowed)).toThrow(
      /ALLOWED_BLENDER_CMDS/,
    );
  });
});

describe("paths", () => {
  it("refuses .. in every separator style", () => {
    for (const p of ["a/../b", "..", "frames\\..\\..\\..\\outside\\x", "a\\..", "x/ ../y", "a//..//b"]) {
      expect(() => refuseParentSegments(p, "settings.render_output")).toThrow(
        /settings\.render_output must not contain/,
      );
    }
    for (const p of ["a/b..c/d", "..hidden/x", "frames/shot_##"]) {
      expect(() => refuseParentSegments(p, "settings.filepath")).not.toThrow();
    }
  });

  it("wants the blend file in a folder below the root", () => {
    expect(() => requireFolderBelowRoot("/farm/scene.blend", "/farm", "settings.filepath")).toThrow(/folder below/);
    expect(() => requireFolderBelowRoot("/farm/p/scene.blend", "/farm", "settings.filepath")).not.toThrow();
  });
});

describe("output claims", () => {
  it("are the folder and the name before the last # run", () => {
    expect(outputClaimOf("/farm/r/shot_####")).toEqual({ dir: "/farm/r", prefix: "shot_" });
    expect(outputClaimOf("/farm/r/shot")).toEqual({ dir: "/farm/r", prefix: "shot" });
    expect(outputClaimOf("/farm/r/######")).toEqual({ dir: "/farm/r", prefix: "" });
  });

  it("clash in one folder when one prefix starts with the other", () => {
    const c = (p: string) => outputClaimOf(p);
    expect(claimsClash(c("/f/r/shot_####"), c("/f/r/shot_"))).toBe(true);
    expect(claimsClash(c("/f/r/s####"), c("/f/r/s0###"))).toBe(true);
    expect(claimsClash(c("/f/r/######"), c("/f/r/anything_##"))).toBe(true);
    expect(claimsClash(c("/f/r/a_####"), c("/f/r/b_####"))).toBe(false);
    expect(claimsClash(c("/f/r/a_####"), c("/f/q/a_####"))).toBe(false);
  });
});
