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
  /**
   * Submits the same job as `submit` through `POST /api/jobs`, as a submitter would (render output
   * `renders/<name>/######`); expects 200 and answers the `Job` JSON.
   */
  post(
    name: string,
    settings?: Record<string, unknown>,
    priority?: number,
  ): Promise<{ id: string; settings: Record<string, unknown> }>;
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
  const jobDefinition = (
    name: string,
    settings: Record<string, unknown>,
    metadata: Record<string, string>,
    priority = 50,
  ): JobDefinition => ({
    type: "simple-blender-render",
    name,
    priority,
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
  });
  const close = gw.close;
  return {
    ...gw,
    rc,
    scratch,
    rendererZip,
    scene,
    async post(name, settings = {}, priority = 50) {
      const res = await fetch(`${gw.url}/api/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(
          jobDefinition(
            name,
            { render_output: path.join(gw.storageRoot, "renders", name, "######"), ...settings },
            {},
            priority,
          ),
        ),
      });
      if (res.status !== 200) throw new Error(`POST /api/jobs answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { id: string; settings: Record<string, unknown> };
    },
    async submit(name, settings = {}, metadata = {}) {
      return gw.farm.jobs.submit(jobDefinition(name, settings, metadata));
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
