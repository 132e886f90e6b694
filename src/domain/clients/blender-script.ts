/**
 * The Python script a render client runs inside Blender before the frame (SheepIt's `<script>`):
 * it must define `sheepit_set_compute_device(device_type, signature, device_id)`, which the client
 * calls right after it (it selects the Cycles device), and it applies the job's output format.
 */

/** Blender's `image_settings.file_format` for a Flamenco `format` setting. */
export function blenderFileFormat(format: string): string {
  const f = format.trim().toUpperCase();
  if (f === "EXR") return "OPEN_EXR";
  if (f === "MULTILAYER") return "OPEN_EXR_MULTILAYER";
  if (f === "JPG") return "JPEG";
  if (f === "TIF") return "TIFF";
  return /^[A-Z0-9_]+$/.test(f) ? f : "PNG";
}

export function blenderScript(opts: { format: string; useGpu: boolean }): string {
  return `import bpy


def sheepit_set_compute_device(device_type, signature, device_id):
    """Selects the render device: CPU, or the GPU the client names (CUDA, OPTIX, HIP, METAL, ONEAPI)."""
    scene = bpy.context.scene
    if signature != "GPU" or not ${opts.useGpu ? "True" : "False"}:
        scene.cycles.device = "CPU"
        return
    prefs = bpy.context.preferences.addons["cycles"].preferences
    try:
        prefs.compute_device_type = device_type
    except TypeError:
        scene.cycles.device = "CPU"
        return
    prefs.get_devices()
    found = False
    for device in prefs.devices:
        use = device.id == device_id or device_id in device.id
        device.use = use
        found = found or use
    scene.cycles.device = "GPU" if found else "CPU"


scene = bpy.context.scene
scene.render.use_file_extension = True
scene.render.image_settings.file_format = "${blenderFileFormat(opts.format)}"
`;
}
