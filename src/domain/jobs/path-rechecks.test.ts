import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StorageRoot } from "../../../adapters/storage/storage-root.js";
import type { Job } from "./job.js";
import { SIMPLE_BLENDER_RENDER } from "./job-types.js";
import { PathRechecks } from "./path-rechecks.js";

let tmp: string;
let storage: StorageRoot;
let outside: string;
let clock: number;
let resolved: number;

/** A real storage root that counts the resolutions asked of it. */
function countingStorage(): StorageRoot {
  const s = new StorageRoot(path.join(tmp, "root"));
  const real = s.real.bind(s);
  s.real = (p, field) => {
    resolved++;
    return real(p, field);
  };
  return s;
}

function jobIn(id: string, folder: string): Job {
  return {
    id,
    type: SIMPLE_BLENDER_RENDER,
    settings: {
      filepath: path.join(storage.root, "scenes", "a.blend"),
      render_output: path.join(storage.root, folder, "######"),
    },
  } as unknown as Job;
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bw-rechecks-"));
  outside = path.join(tmp, "outside");
  fs.mkdirSync(outside);
  resolved = 0;
  clock = 1_000_000;
  storage = countingStorage();
  fs.mkdirSync(path.join(storage.root, "scenes"));
  fs.writeFileSync(path.join(storage.root, "scenes", "a.blend"), "BLENDER");
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("PathRechecks", () => {
  it("finds a folder replaced by a link outside the root once a pass is older than its ttl", async () => {
    const rechecks = new PathRechecks(storage, 1_000, 100, () => clock);
    const job = jobIn("j1", "renders/shot");
    fs.mkdirSync(path.join(storage.root, "renders", "shot"), { recursive: true });
    expect(await rechecks.why(job)).toBeNull();
    expect(resolved).toBe(2);

    fs.rmSync(path.join(storage.root, "renders", "shot"), { recursive: true });
    fs.symlinkSync(outside, path.join(storage.root, "renders", "shot"));
    clock += 999;
    expect(await rechecks.why(job)).toBeNull(); // the pass of 999 ms ago stands
    expect(resolved).toBe(2);
    clock += 1;
    expect(await rechecks.why(job)).toMatch(/settings\.render_output .* outside the farm storage/);
    expect(resolved).toBe(4);
  });

  it("never remembers a failure: each hand-out resolves again until the link is gone", async () => {
    const rechecks = new PathRechecks(storage, 60_000, 100, () => clock);
    fs.mkdirSync(path.join(storage.root, "renders"), { recursive: true });
    fs.symlinkSync(outside, path.join(storage.root, "renders", "shot"));
    const job = jobIn("j1", "renders/shot");
    expect(await rechecks.why(job)).toMatch(/outside the farm storage/);
    expect(await rechecks.why(job)).toMatch(/outside the farm storage/);
    expect(resolved).toBe(4);
    fs.unlinkSync(path.join(storage.root, "renders", "shot"));
    expect(await rechecks.why(job)).toBeNull();
  });

  it("names the blend file when it leads outside, and keeps passes per job and per paths", async () => {
    const rechecks = new PathRechecks(storage, 60_000, 100, () => clock);
    fs.mkdirSync(path.join(storage.root, "out"));
    const a = jobIn("a", "out");
    expect(await rechecks.why(a)).toBeNull();
    // Another job, and the same job with another output: each resolved on its own.
    expect(await rechecks.why(jobIn("b", "out"))).toBeNull();
    expect(await rechecks.why(jobIn("a", "elsewhere"))).toBeNull();
    expect(resolved).toBe(6);

    fs.rmSync(path.join(storage.root, "scenes"), { recursive: true });
    fs.mkdirSync(path.join(outside, "scenes"));
    fs.writeFileSync(path.join(outside, "scenes", "a.blend"), "BLENDER");
    fs.symlinkSync(path.join(outside, "scenes"), path.join(storage.root, "scenes"));
    expect(await rechecks.why(jobIn("c", "out"))).toMatch(/settings\.filepath .* symbolic link/);
  });

  it("keeps at most `max` passes, dropping the oldest", async () => {
    const rechecks = new PathRechecks(storage, 60_000, 2, () => clock);
    fs.mkdirSync(path.join(storage.root, "out"));
    for (const id of ["a", "b", "c"]) expect(await rechecks.why(jobIn(id, "out"))).toBeNull();
    expect(resolved).toBe(6);
    expect(await rechecks.why(jobIn("c", "out"))).toBeNull();
    expect(resolved).toBe(6);
    expect(await rechecks.why(jobIn("a", "out"))).toBeNull(); // dropped: resolved again
    expect(resolved).toBe(8);
  });
});
