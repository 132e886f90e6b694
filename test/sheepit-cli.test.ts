import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accountsOf, renderClientsOf } from "../src/app/render-clients.js";
import { type CliContext, type CliGroup, parseArgs } from "../src/cli/command.js";
import { rendererGroup } from "../src/cli/renderer.js";
import { userGroup } from "../src/cli/user.js";
import { buildRendererZip } from "./simulators/fake-renderer.js";
import { createTestFarm, type TestFarm } from "./support/farm.js";

describe("bellwether user / renderer", () => {
  let t: TestFarm;
  let out: string[];
  const ctx = (): CliContext => ({ farm: async () => t.farm, out: (l) => out.push(l) });
  const run = async (g: CliGroup, cmd: string, ...argv: string[]) => {
    out = [];
    const code = await g.commands[cmd]?.run(ctx(), parseArgs(argv));
    return { code, out };
  };

  beforeAll(() => {
    t = createTestFarm("sheepit-cli");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("adds, lists, disables, enables, takes the right to render, revokes keys and removes users", async () => {
    expect((await run(userGroup, "add", "zoe", "--password", "zoe-password")).out).toEqual(["added zoe"]);
    await expect(run(userGroup, "add", "zoe", "--password", "zoe-password")).rejects.toThrow(/exists/);
    await expect(run(userGroup, "add", "yan", "--password", "short")).rejects.toThrow(/8 characters/);
    await expect(run(userGroup, "add", "yan")).rejects.toThrow(/--password/);
    await run(userGroup, "add", "yan", "--password", "yan-password", "--no-render");

    const accounts = accountsOf(t.farm);
    const stored = await accounts.get("zoe");
    expect(stored.passwordHash).toMatch(/^scrypt\$/);
    expect(stored.passwordHash).not.toContain("zoe-password");
    const login = { login: "zoe", password: "zoe-password", machine: "hwid:1", address: "10.0.0.1" };
    const { renderKey } = await accounts.authenticate(login);
    expect((await accounts.authenticate({ ...login, password: renderKey })).renderKey).toBe(renderKey);

    const listed = (await run(userGroup, "list")).out.join("\n");
    expect(listed).toMatch(/zoe\s+enabled,can-render\s+0\s+1/);
    expect(listed).toMatch(/yan\s+enabled,no-render/);
    expect(JSON.parse((await run(userGroup, "list", "--json")).out.join("\n"))[1]).not.toHaveProperty("passwordHash");

    await run(userGroup, "render", "yan", "on");
    expect((await accounts.get("yan")).canRender).toBe(true);
    expect((await run(userGroup, "keys", "revoke", "zoe")).out).toEqual(["revoked 1 render key of zoe"]);
    await expect(accounts.authenticate({ ...login, password: renderKey })).rejects.toThrow(/wrong login/);
    await run(userGroup, "disable", "zoe");
    await expect(accounts.authenticate(login)).rejects.toThrow(/wrong login/);
    await run(userGroup, "enable", "zoe");
    expect((await accounts.authenticate({ ...login, address: "10.0.0.2" })).user.login).toBe("zoe");
    await run(userGroup, "remove", "zoe");
    await expect(run(userGroup, "remove", "zoe")).rejects.toThrow(/no user/);
  });

  it("registers a renderer zip under RENDERERS_DIR", async () => {
    const zip = await buildRendererZip(path.join(t.storageRoot, "incoming"));
    const { out: o } = await run(
      rendererGroup,
      "add",
      zip,
      "--name",
      "blender-4.2",
      "--os",
      "linux",
      "--bits",
      "64bit",
      "--default",
    );
    expect(o[0]).toMatch(/^added blender-4\.2 for linux 64bit: .*blender-4\.2-linux-64bit\.zip \(md5 [0-9a-f]{32}\)$/);
    const r = await renderClientsOf(t.farm).renderers.find("linux", "64bit");
    expect(r).toMatchObject({ name: "blender-4.2", isDefault: true });
    expect(r?.file.startsWith(t.farm.config.renderersDir)).toBe(true);
    expect((await run(rendererGroup, "list")).out[0]).toContain("blender-4.2  linux  64bit  default");
  });
});
