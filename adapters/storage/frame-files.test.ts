import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalFrameFiles } from "./frame-files.js";

describe("LocalFrameFiles writes only frames, only inside the root", () => {
  let base: string;
  let root: string;
  let outside: string;
  let files: LocalFrameFiles;

  beforeAll(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), "bw-frame-files-"));
    root = path.join(base, "root");
    outside = path.join(base, "outside");
    fs.mkdirSync(path.join(root, "renders"), { recursive: true });
    fs.mkdirSync(outside);
    files = new LocalFrameFiles(fs.realpathSync(root));
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it("writes a frame atomically inside the root", async () => {
    const target = path.join(root, "renders", "a", "0001.png");
    const tmp = await files.tempFor(target);
    fs.writeFileSync(tmp, "frame");
    await files.place(tmp, target);
    expect(fs.readFileSync(target, "utf8")).toBe("frame");
  });

  it("refuses a target that is not a frame file (a .blend, a script)", async () => {
    for (const name of ["shot0001.blend", "0001.py", "0001"]) {
      await expect(files.tempFor(path.join(root, "renders", "a", name))).rejects.toMatchObject({ kind: "storage" });
    }
    const tmp = await files.tempFor(path.join(root, "renders", "a", "0002.png"));
    await expect(files.place(tmp, path.join(root, "renders", "a", "shot0001.blend"))).rejects.toMatchObject({
      kind: "storage",
    });
  });

  it("refuses a folder a symbolic link sends outside the root, at the moment of writing", async () => {
    const target = path.join(root, "renders", "b", "0001.png");
    const tmp = await files.tempFor(target);
    fs.writeFileSync(tmp, "frame");
    // Planted between the upload's start and its write.
    fs.renameSync(path.join(root, "renders", "b"), path.join(root, "renders", "b-moved"));
    fs.symlinkSync(outside, path.join(root, "renders", "b"));
    await expect(files.place(path.join(root, "renders", "b-moved", path.basename(tmp)), target)).rejects.toMatchObject({
      kind: "storage",
    });
    await expect(files.tempFor(path.join(root, "renders", "b", "deeper", "0001.png"))).rejects.toMatchObject({
      kind: "storage",
    });
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});
