import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestFarm, type TestFarm } from "../../test/support/farm.js";
import { type CliContext, parseArgs } from "./command.js";
import { workerGroup } from "./worker.js";

let t: TestFarm;
let out: string[] = [];
const ctx = (): CliContext => ({ farm: async () => t.farm, out: (l) => out.push(l) });
// The same parsing as src/cli/main.ts (no boolean flags declared there).
const run = async (cmd: string, ...argv: string[]) => {
  out = [];
  const command = workerGroup.commands[cmd];
  if (!command) throw new Error(`no command ${cmd}`);
  return command.run(ctx(), parseArgs(argv));
};

beforeAll(() => {
  t = createTestFarm("cli-worker");
});
afterAll(async () => {
  await t.close();
});

describe("bellwether worker", () => {
  it("lists workers and asks them to change status, lazily or now", async () => {
    const w = await t.farm.workers.register({
      secret: "s",
      nickname: "box-7",
      platform: "linux",
      taskTypes: ["blender"],
      address: "10.0.0.7",
    });
    expect(await run("list")).toBe(0);
    expect(out.join("\n")).toMatch(new RegExp(`${w.id}\\s+starting\\s+.*box-7`));

    expect(await run("setstatus", w.id, "asleep", "--lazy")).toBe(0);
    expect(out.join("\n")).toContain("after its current task");
    await run("list");
    expect(out.join("\n")).toContain("→ asleep (lazy)");
    // `--lazy` before the positionals works too.
    expect(await run("setstatus", "--lazy", w.id, "offline")).toBe(0);
    await run("list", "--json");
    expect(JSON.parse(out.join("\n"))[0]).toMatchObject({ id: w.id, request: { status: "offline", lazy: true } });
    expect(await run("setstatus", w.id, "awake")).toBe(0);
    await run("list", "--json");
    expect(JSON.parse(out.join("\n"))[0].request).toEqual({ status: "awake", lazy: false });
  });

  it("rejects bad arguments", async () => {
    await expect(run("setstatus")).rejects.toThrow(/worker id and a status/);
    await expect(run("setstatus", "x", "error")).rejects.toThrow(/status must be one of/);
    await expect(run("setstatus", "6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab", "asleep")).rejects.toMatchObject({
      kind: "not-found",
    });
  });
});
