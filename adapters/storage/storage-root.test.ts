import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isFarmError } from "../../src/domain/errors.js";
import { StorageRoot } from "./storage-root.js";

const base = fs.mkdtempSync(path.join(os.tmpdir(), "bw-storage-"));
const root = path.join(base, "farm");
fs.mkdirSync(path.join(root, "jobs"), { recursive: true });
fs.mkdirSync(path.join(base, "outside"));
fs.symlinkSync(path.join(base, "outside"), path.join(root, "escape"));
const storage = new StorageRoot(root);

afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe("StorageRoot.confine", () => {
  it("accepts paths inside the root, existing or not", async () => {
    expect(await storage.confine(path.join(root, "jobs/a.blend"), "f")).toBe(path.join(storage.root, "jobs/a.blend"));
    expect(await storage.confine("not/yet/there/x.blend", "f")).toBe(path.join(storage.root, "not/yet/there/x.blend"));
  });

  it.each([
    ["dot-dot", "../outside/x.blend"],
    ["absolute elsewhere", "/etc/passwd"],
    ["symlink out", "escape/x.blend"],
    ["symlink then missing", "escape/deeper/new.blend"],
  ])("rejects %s naming the field", async (_label, p) => {
    const err = await storage.confine(p, "settings.filepath").catch((e: unknown) => e);
    expect(isFarmError(err, "invalid")).toBe(true);
    expect((err as Error).message).toContain("settings.filepath");
  });
});
