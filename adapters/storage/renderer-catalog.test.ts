import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { zipOf } from "../../test/simulators/fake-renderer.js";
import { DEFAULT_COMMANDLINE, FolderRendererCatalog, MANIFEST } from "./renderer-catalog.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "bw-renderers-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const md5 = (p: string) => createHash("md5").update(fs.readFileSync(p)).digest("hex");

describe("FolderRendererCatalog", () => {
  it("serves a zip dropped by hand with a manifest entry, computing its MD5 once and caching it", async () => {
    const dir = path.join(root, "hand");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "b.zip"), await zipOf({ "rend.exe": new TextEncoder().encode("#!/bin/sh\n") }));
    fs.writeFileSync(
      path.join(dir, MANIFEST),
      JSON.stringify({ renderers: [{ name: "b", os: "linux", bits: "64bit", file: "b.zip" }, { name: "evil", os: "mac", bits: "64bit", file: "../x.zip" }] }),
    );
    let clock = 1_000_000;
    const catalog = new FolderRendererCatalog(dir, { now: () => clock });
    const r = await catalog.find("linux", "64bit");
    expect(r).toMatchObject({ name: "b", md5: md5(path.join(dir, "b.zip")), commandline: DEFAULT_COMMANDLINE });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), "utf8"));
    expect(manifest.renderers[0].md5).toBe(r?.md5);
    expect(await catalog.find("mac", "64bit")).toBeNull();
    expect(await catalog.find("windows", "64bit")).toBeNull();
    // A replaced zip gets its new MD5 once the last answer is a second old (not looked at before).
    const before = r?.md5;
    fs.writeFileSync(path.join(dir, "b.zip"), await zipOf({ "rend.exe": new TextEncoder().encode("#!/bin/sh\necho 2\n") }));
    fs.utimesSync(path.join(dir, "b.zip"), new Date(), new Date(Date.now() + 5000));
    clock += 999;
    expect((await catalog.find("linux", "64bit"))?.md5).toBe(before);
    clock += 1;
    expect((await catalog.find("linux", "64bit"))?.md5).toBe(md5(path.join(dir, "b.zip")));
    expect(md5(path.join(dir, "b.zip"))).not.toBe(before);
  });

  it("adds zips with rend.exe at the root, prefers the default one, rejects others", async () => {
    const dir = path.join(root, "added");
    const catalog = new FolderRendererCatalog(dir);
    const src = path.join(root, "src.zip");
    fs.writeFileSync(src, await zipOf({ "rend.exe": new Uint8Array([1, 2, 3]) }));
    const a = await catalog.add(src, { name: "a", os: "windows", bits: "64bit", isDefault: true });
    const b = await catalog.add(src, { name: "b", os: "windows", bits: "64bit", commandline: ".e -b .c -o .o -f .f" });
    expect((await catalog.find("windows", "64bit"))?.name).toBe("a");
    await catalog.add(src, { name: "b", os: "windows", bits: "64bit", isDefault: true });
    expect((await catalog.find("windows", "64bit"))?.name).toBe("b");
    expect(a.md5).toBe(b.md5);
    expect(fs.readdirSync(dir).sort()).toEqual(["a-windows-64bit.zip", "b-windows-64bit.zip", MANIFEST]);
    const nested = path.join(root, "nested.zip");
    fs.writeFileSync(nested, await zipOf({ "blender/rend.exe": new Uint8Array([1]) }));
    await expect(catalog.add(nested, { name: "n", os: "linux", bits: "64bit" })).rejects.toThrow(/rend\.exe/);
    fs.writeFileSync(path.join(root, "not.zip"), "plain text");
    await expect(catalog.add(path.join(root, "not.zip"), { name: "n", os: "linux", bits: "64bit" })).rejects.toThrow(/rend\.exe/);
    await expect(catalog.add(src, { name: "n", os: "beos", bits: "64bit" })).rejects.toThrow(/--os/);
    await expect(catalog.add(src, { name: "n", os: "linux", bits: "16bit" })).rejects.toThrow(/--bits/);
    await expect(catalog.add(src, { name: "../n", os: "linux", bits: "64bit" })).rejects.toThrow(/--name/);
  });
});
