import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArgs } from "../src/cli/command.js";
import { taskGroup } from "../src/cli/task.js";
import { testExr } from "./simulators/fake-renderer.js";
import type { JobOffer, SheepItClient } from "./simulators/sheepit-client.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";

interface TaskWire {
  id: string;
  name: string;
  status: string;
  worker?: { id: string; name: string; protocol: string };
}

/** Issue 9.9 and 9.10: set-up errors charge the session, not the frame; reports are task logs. */
describe("SheepIt error reports", () => {
  let gw: SheepitGateway;

  beforeAll(async () => {
    // TASK_FAIL_WORKERS=1: one charged failure would fail a frame for good.
    gw = await startSheepitGateway("sheepit-errors", { SHEEPIT_BROKEN_FRAMES: "2", TASK_FAIL_WORKERS: "1" });
  });
  afterAll(async () => {
    await gw?.close();
  });

  async function only(name: string, frames: string) {
    for (const j of await gw.farm.jobs.list({ statuses: ["queued", "active"] })) {
      await gw.farm.jobs.setStatus(j.id, "cancel-requested");
    }
    return gw.submit(name, { frames });
  }
  async function take(c: SheepItClient): Promise<JobOffer> {
    const r = await c.requestJob();
    expect(r.status).toBe(0);
    return r.job as JobOffer;
  }
  const tasksOf = async (jobId: string) =>
    ((await (await fetch(`${gw.url}/api/jobs/${jobId}/tasks`)).json()) as { tasks: TaskWire[] }).tasks;

  it("a set-up error (type 7) gives the frame back uncharged and counts against the session", async () => {
    const job = await only("setup", "4");
    const a = gw.client("no-scene", { instantImage: testExr() });
    expect(await a.login()).toBe(0);
    const first = await take(a);
    expect(await a.reportError(7, first.id, first.frame, "Couldn't find a scene")).toBe(0);
    // Not charged to the frame: with TASK_FAIL_WORKERS=1 a charged failure would have failed it, and
    // the session would never get it again. The same machine may take it again.
    expect(await gw.farm.jobs.get(job.id)).toMatchObject({ failedFrames: 0, completedFrames: 0 });
    const again = await take(a);
    expect(again.frame).toBe("0004");
    // The given-back lease is not left behind as a stale entry: the frame is one task, held again.
    expect((await tasksOf(job.id)).map((t) => t.status)).toEqual(["active"]);
    // Two set-up errors in a row (SHEEPIT_BROKEN_FRAMES=2) disable the session (203).
    expect(await a.reportError(7, again.id, again.frame, "Couldn't find a scene")).toBe(0);
    expect((await a.requestJob()).status).toBe(203);
    // Another machine renders the frame.
    const b = gw.client("healthy", { instantImage: testExr() });
    expect(await b.login()).toBe(0);
    const offered = await take(b);
    expect(await b.upload(await b.render(offered))).toBe(0);
    expect(await gw.farm.jobs.get(job.id)).toMatchObject({ completedFrames: 1, failedFrames: 0 });
  });

  it("a successful frame between set-up errors resets the count", async () => {
    await only("setup-reset", "1-3");
    const c = gw.client("flaky-setup", { instantImage: testExr() });
    expect(await c.login()).toBe(0);
    const one = await take(c);
    expect(await c.reportError(9, one.id, one.frame, "download failed")).toBe(0);
    const two = await take(c);
    expect(await c.upload(await c.render(two))).toBe(0);
    const three = await take(c);
    expect(await c.reportError(9, three.id, three.frame, "download failed")).toBe(0);
    expect((await c.requestJob()).status).toBe(0);
  });

  it("the client's error report is the failed task's log, and the task keeps its holder's name after logout", async () => {
    const job = await only("crash", "8");
    const c = gw.client("crashy", { instantImage: testExr() });
    expect(await c.login()).toBe(0);
    const offer = await take(c);
    expect(await c.reportError(12, offer.id, offer.frame, "Blender quit\nSegmentation fault at 0xdeadbeef\n")).toBe(0);
    await c.logout();
    const tasks = await tasksOf(job.id);
    const failed = tasks.find((t) => t.status === "failed" || t.status === "soft-failed");
    expect(failed).toBeDefined();
    expect(failed?.worker).toMatchObject({ name: "alice@crashy", protocol: "sheepit" });
    const res = await fetch(`${gw.url}/api/tasks/${failed?.id}/log`);
    expect(res.status).toBe(200);
    const log = await res.text();
    expect(log).toContain("reported error type 12");
    expect(log).toContain("Segmentation fault at 0xdeadbeef");
    const one = (await (await fetch(`${gw.url}/api/tasks/${failed?.id}`)).json()) as TaskWire;
    expect(one.worker?.name).toBe("alice@crashy");
    // The command line shows the same: the task with its holder, and the report as its log.
    const out: string[] = [];
    const cli = { farm: async () => gw.farm, out: (l: string) => out.push(l) };
    await taskGroup.commands.list?.run(cli, parseArgs([job.id]));
    expect(out.join("\n")).toMatch(new RegExp(`${failed?.id}.*failed.*alice@crashy \\(sheepit\\)`));
    out.length = 0;
    await taskGroup.commands.log?.run(cli, parseArgs([String(failed?.id)]));
    expect(out.join("\n")).toContain("Segmentation fault at 0xdeadbeef");
  });
});
