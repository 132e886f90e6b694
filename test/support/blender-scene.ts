import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { TextReader, Uint8ArrayWriter, ZipWriter } from "@zip.js/zip.js";
import { findOnPath } from "../../src/app/local-redis.js";

/**
 * A tiny real scene for the real-render tests, made at test time by the system Blender: a red cube
 * turning and sliding on a lit grey plane under a dark blue sky, 96×54 pixels, Cycles on the CPU
 * with a few samples and denoising off (Debian's Blender has no OpenImageDenoise).
 */

/** The executable, or an error saying what to install: these tests fail, they never skip. */
export function requireTool(name: "blender" | "ffmpeg" | "ffprobe"): string {
  const found = findOnPath(name);
  if (!found) {
    throw new Error(
      `${name} is not installed, and the real-render tests need it: sudo apt-get install -y --no-install-recommends ${name === "ffprobe" ? "ffmpeg" : name} (.ci/run installs it)`,
    );
  }
  return found;
}

export const SCENE_WIDTH = 96;
export const SCENE_HEIGHT = 54;

const SCENE_SCRIPT = `
import bpy, math, sys
out = sys.argv[sys.argv.index("--") + 1]
frame_end = int(sys.argv[sys.argv.index("--") + 2])
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.device = "CPU"
scene.cycles.samples = 8
scene.cycles.use_denoising = False
scene.cycles.max_bounces = 2
scene.render.resolution_x = ${SCENE_WIDTH}
scene.render.resolution_y = ${SCENE_HEIGHT}
scene.render.resolution_percentage = 100
scene.render.image_settings.file_format = "PNG"
scene.frame_start = 1
scene.frame_end = frame_end

def material(name, rgba):
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    m.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = rgba
    return m

bpy.ops.mesh.primitive_plane_add(size=12)
bpy.context.object.data.materials.append(material("floor", (0.7, 0.7, 0.7, 1)))
bpy.ops.mesh.primitive_cube_add(size=1.5, location=(-1.5, 0, 0.75))
cube = bpy.context.object
cube.data.materials.append(material("cube", (0.8, 0.05, 0.03, 1)))
cube.keyframe_insert("location", frame=1)
cube.keyframe_insert("rotation_euler", frame=1)
cube.location = (1.5, 0, 0.75)
cube.rotation_euler = (0, 0, math.pi / 2)
cube.keyframe_insert("location", frame=frame_end)
cube.keyframe_insert("rotation_euler", frame=frame_end)
bpy.ops.object.light_add(type="SUN", location=(3, -3, 6))
bpy.context.object.data.energy = 4
bpy.context.object.rotation_euler = (math.radians(40), 0, math.radians(30))
bpy.ops.object.camera_add(location=(9, -9, 6.5), rotation=(math.radians(63), 0, math.radians(45)))
scene.camera = bpy.context.object
world = bpy.data.worlds.new("sky")
scene.world = world
world.use_nodes = True
world.node_tree.nodes["Background"].inputs[0].default_value = (0.05, 0.08, 0.2, 1)
bpy.ops.wm.save_as_mainfile(filepath=out)
`;

/**
 * Writes `<dir>/<name>.blend` (dir is created; it must lie in a folder below STORAGE_ROOT for a
 * job) animated over frames 1..frameEnd; answers its path.
 */
export function makeBlenderScene(dir: string, name: string, frameEnd: number): string {
  const blender = requireTool("blender");
  fs.mkdirSync(dir, { recursive: true });
  const script = path.join(dir, `.make-${name}.py`);
  fs.writeFileSync(script, SCENE_SCRIPT);
  const blend = path.join(dir, `${name}.blend`);
  const res = spawnSync(
    blender,
    ["--factory-startup", "-b", "--python-exit-code", "1", "--python", script, "--", blend, String(frameEnd)],
    { encoding: "utf8", timeout: 120_000 },
  );
  fs.rmSync(script, { force: true });
  if (res.status !== 0 || !fs.existsSync(blend)) {
    throw new Error(`blender could not make the test scene (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
  }
  return blend;
}

/** A SheepIt renderer zip whose `rend.exe` is a shell script that runs `blender` (the system one). */
export async function systemBlenderRendererZip(dir: string, blender = "blender"): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const writer = new ZipWriter(new Uint8ArrayWriter());
  await writer.add("rend.exe", new TextReader(`#!/bin/sh\nexec ${blender} "$@"\n`));
  const zip = path.join(dir, "system-blender.zip");
  fs.writeFileSync(zip, await writer.close());
  return zip;
}
