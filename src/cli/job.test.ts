import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestFarm, exampleJob, type TestFarm } from "../../test/support/farm.js";
import { type CliContext, parseArgs } from "./command.js";
import { jobGroup } from "./job.js";

let t: TestFarm;
let out: string[] = [];
const ctx = (): CliContext => ({ farm: async () => t.farm, out: (l) => out.push(l) });
const run = async (cmd: string, ...argv: string[]) => {
  out = [];
  const command = jobGroup.commands[cmd];
  if (!command) throw new Error(`no command ${cmd}`);
  return command.run(ctx(), parseArgs(argv, ["json"]));
};

beforeAll(() => {
  t = createTestFarm("cli-job");
});
afterAll(async () => {
  await t.close();
});

describe("bellwether job", () => {
  it("lists, shows, pauses, resumes, reprioritises, cancels, requeues and deletes", async () => {
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-5" }));
    expect(await run("list")).toBe(0);
    expect(out.join("\n")).toContain(job.id);
    expect(out.join("\n")).toMatch(/queued\s+50\s+0\/5/);

    await run("show", job.id);
    expect(JSON.parse(out.join("\n"))).toMatchObject({ id: job.id, frameCount: 5 });

    await run("pause", job.id, "--reason", "lunch");
    expect((await t.farm.jobs.get(job.id)).status).toBe("paused");
    expect((await t.farm.jobs.get(job.id)).reason).toBe("lunch");
    await run("list", "--status", "paused");
    expect(out.join("\n")).toContain(job.id);
    await run("resume", job.id);
    expect((await t.farm.jobs.get(job.id)).status).toBe("queued");
    await run("priority", job.id, "77");
    expect((await t.farm.jobs.get(job.id)).priority).toBe(77);
    await run("cancel", job.id);
    expect((await t.farm.jobs.get(job.id)).status).toBe("canceled");
    await run("requeue", job.id);
    expect((await t.farm.jobs.get(job.id)).status).toBe("requeued");
    await run("delete", job.id);
    await expect(t.farm.jobs.get(job.id)).rejects.toMatchObject({ kind: "not-found" });
  });

  it("shows the needs the scheduler uses, raised after submission, not the stale ones", async () => {
    const job = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-2" }));
    expect(job.needs.renderSeconds).toBe(0);
    await t.farm.scheduler.setNeeds(job.id, { renderSeconds: 61, ramKb: 2048 });
    await run("show", job.id);
    expect(JSON.parse(out.join("\n")).needs).toEqual({ ...job.needs, renderSeconds: 61, ramKb: 2048 });
  });

  it("rejects bad arguments with a usage error", async () => {
    await expect(run("show")).rejects.toThrow(/job id is required/);
    await expect(run("priority", "x", "high")).rejects.toThrow(/whole-number priority/);
    await expect(run("list", "--status", "bogus")).rejects.toThrow(/unknown status/);
    await expect(run("pause", "4b8e0c4e-8a0e-4a8b-9a6a-7d7b0c5f2d11")).rejects.toMatchObject({ kind: "not-found" });
  });
});
