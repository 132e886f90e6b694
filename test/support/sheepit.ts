import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type RenderClients, renderClientsOf } from "../../src/app/render-clients.js";
import type { Job, JobDefinition } from "../../src/domain/jobs/job.js";
import { buildRendererZip } from "../simulators/fake-renderer.js";
import { type ClientOptions, SheepItClient } from "../simulators/sheepit-client.js";
import { startTestGateway, type TestGateway } from "./gateway.js";

export const PASSWORD = "correct horse battery";

export interface SheepitGateway extends TestGateway {
  rc: RenderClients;
  /** A scratch folder outside the storage root (client work dirs, the renderer zip). */
  scratch: string;
  rendererZip: string;
  /** A blend file with a texture beside it, inside the storage root; answers the blend's path. */
  scene(name: string): string;
  submit(name: string, settings?: Record<string, unknown>, metadata?: Record<string, string>): Promise<Job>;
  client(name: string, o?: Partial<ClientOptions>): SheepItClient;
}

/**
 * A gateway with what SheepIt clients need: the fake renderer registered for linux 64bit and a
 * user `alice` (password PASSWORD) who may render.
 */
export async function startSheepitGateway(label: string, env: Record<string, string> = {}): Promise<SheepitGateway> {
  const gw = await startTestGateway(label, env);
  const rc = renderClientsOf(gw.farm);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `bw-sheepit-${label}-`));
  const rendererZip = await buildRendererZip(scratch);
  await rc.renderers.add(rendererZip, { name: "blender-test", os: "linux", bits: "64bit", isDefault: true });
  await rc.accounts.add("alice", PASSWORD);
  const scene = (name: string) => {
    const dir = path.join(gw.storageRoot, "projects", name);
    fs.mkdirSync(path.join(dir, "textures"), { recursive: true });
    fs.writeFileSync(path.join(dir, "scene.blend"), `BLENDER-v300 fake scene ${name}\n`.repeat(50));
    fs.writeFileSync(path.join(dir, "textures", "wood.png"), Buffer.alloc(2048, 7));
    return path.join(dir, "scene.blend");
  };
  const close = gw.close;
  return {
    ...gw,
    rc,
    scratch,
    rendererZip,
    scene,
    async submit(name, settings = {}, metadata = {}) {
      const def: JobDefinition = {
        type: "simple-blender-render",
        name,
        priority: 50,
        settings: {
          blender_cmd: "{blender}",
          filepath: scene(name),
          render_output: path.join(gw.storageRoot, "renders", name, "frame_######"),
          frames: "1-12",
          chunk_size: 1,
          fps: 24,
          extract_audio: false,
          images_or_video: "images",
          format: "OPEN_EXR",
          output_file_extension: ".exr",
          ...settings,
        },
        metadata,
      };
      return gw.farm.jobs.submit(def);
    },
    client(name, o = {}) {
      return new SheepItClient({
        url: gw.url,
        login: "alice",
        password: PASSWORD,
        workDir: path.join(scratch, "clients", name),
        hostname: name,
        hwid: `hw-${name}`,
        retryDelaysMs: [20, 40],
        ...o,
      });
    },
    async close() {
      await close();
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
}
