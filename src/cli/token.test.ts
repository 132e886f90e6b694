import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestFarm, type TestFarm } from "../../test/support/farm.js";
import { controlTokensOf } from "../app/control.js";
import { hashControlToken } from "../domain/control/control-tokens.js";
import { type CliContext, parseArgs } from "./command.js";
import { tokenGroup } from "./token.js";

let t: TestFarm;
let out: string[] = [];
const ctx = (): CliContext => ({ farm: async () => t.farm, out: (l) => out.push(l) });
const run = async (cmd: string, ...argv: string[]) => {
  out = [];
  const command = tokenGroup.commands[cmd];
  if (!command) throw new Error(`no command ${cmd}`);
  return command.run(ctx(), parseArgs(argv));
};

beforeAll(() => {
  t = createTestFarm("cli-token");
});
afterAll(async () => {
  await t.close();
});

describe("bellwether token", () => {
  it("adds a token printed once, stores only its hash, lists names without tokens, revokes", async () => {
    expect(await run("add", "ci-bot")).toBe(0);
    const token = out[0] as string;
    expect(token).toMatch(/^bwc_[A-Za-z0-9_-]{43}$/);
    expect(out.join("\n")).toContain("not shown again");

    // Nothing in Redis holds the token itself; its SHA-256 is the lookup.
    const keys = await t.redis.keys(`{${t.prefix}}:control:*`);
    const dump = (await Promise.all(keys.map((k) => t.redis.hgetall(k)))).map((h) => JSON.stringify(h)).join("\n");
    expect(dump).not.toContain(token);
    expect(dump).toContain(hashControlToken(token));

    expect(await controlTokensOf(t.farm).verify(token)).toBe("ci-bot");
    await run("add", "alice");
    expect(await run("list")).toBe(0);
    const listed = out.join("\n");
    expect(listed).toMatch(/alice\s+\d{4}-\d\d-\d\dT\S+\s+never/);
    expect(listed).toMatch(/ci-bot\s+\d{4}-\d\d-\d\dT\S+\s+\d{4}-\d\d-\d\dT/);
    expect(listed).not.toContain(token);
    await run("list", "--json");
    expect(JSON.parse(out.join("\n")).map((x: { name: string }) => x.name)).toEqual(["alice", "ci-bot"]);
    expect(out.join("\n")).not.toContain(token);

    expect(await run("revoke", "ci-bot")).toBe(0);
    expect(out).toEqual(["revoked ci-bot"]);
    expect(await controlTokensOf(t.farm).verify(token)).toBeNull();
    await run("list");
    expect(out.join("\n")).not.toContain("ci-bot");
  });

  it("refuses a taken name, a bad name, a missing name and revoking an unknown token", async () => {
    await run("add", "dup");
    await expect(run("add", "dup")).rejects.toThrow(/exists/);
    await expect(run("add", "no spaces")).rejects.toThrow(/token name/);
    await expect(run("add")).rejects.toThrow(/name is required/);
    await expect(run("revoke", "nobody")).rejects.toMatchObject({ kind: "not-found" });
  });
});
