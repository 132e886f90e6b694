import { afterAll, describe, expect, it } from "vitest";
import { CommandCounter } from "../../test/support/command-counter.js";
import { createTestFarm, exampleJob } from "../../test/support/farm.js";
import { JOB_LIVE_FIELDS, JobRecords } from "./job-records.js";

const caps = (sessionId: string) => ({ sessionId, taskTypes: ["blender"], device: "any" as const });

describe("JobRecords: the job a claim and a completion answer", () => {
  const t = createTestFarm("job-records");
  const other = t.twin();
  const third = t.twin();
  afterAll(async () => {
    await third.close();
    await other.close();
    await t.close();
  });

  it("is the whole job as stored, on the process that submitted it and on others", async () => {
    const def = exampleJob(t.storageRoot, { frames: "1-4", chunk_size: 1 }, 70);
    def.metadata = { project: "records", user: "ann" };
    const submitted = await t.farm.jobs.submit(def);
    await t.farm.scheduler.filled(submitted.id);

    // The job's first claim, on a process that never saw the job: the script answers it whole.
    const counter = new CommandCounter(other.redis);
    const first = await counter.count(() =>
      other.farm.work.claim({ caps: caps("far-1"), maxFrames: 1, leaseMs: 60_000 }),
    );
    expect(first.commands).not.toContain("hmget");
    const stored = await t.farm.jobs.get(submitted.id);
    expect(first.value?.job).toEqual(stored);
    expect(first.value?.job).toMatchObject({ status: "active", priority: 70, metadata: def.metadata });
    expect(first.value?.job?.settings).toEqual(stored.settings);

    // A later first claim on a third process reads the fixed fields once, then remembers them.
    const thirdCounter = new CommandCounter(third.redis);
    const later = await thirdCounter.count(() =>
      third.farm.work.claim({ caps: caps("far-2"), maxFrames: 1, leaseMs: 60_000 }),
    );
    expect(later.commands).toContain("hmget");
    expect(later.value?.job).toEqual(await t.farm.jobs.get(submitted.id));
    const again = await thirdCounter.count(() =>
      third.farm.work.claim({ caps: caps("far-3"), maxFrames: 1, leaseMs: 60_000 }),
    );
    expect(again.commands).not.toContain("hmget");
    expect(again.value?.job).toEqual(await t.farm.jobs.get(submitted.id));

    // The live fields follow the completion (count, time) on either process.
    const done = await third.farm.work.complete(again.value?.lease.id as string, "far-3");
    expect(done.job).toEqual(await t.farm.jobs.get(submitted.id));
    expect(done.job?.completedFrames).toBe(1);
    const near = await t.farm.work.claim({ caps: caps("near"), maxFrames: 1, leaseMs: 60_000 });
    expect(near?.job).toEqual(await t.farm.jobs.get(submitted.id));
    const last = await t.farm.work.complete(near?.lease.id as string, "near");
    expect(last.job?.completedFrames).toBe(2);
    expect(last.job?.name).toBe(def.name);
  });

  it("is read from the live fields and the stored fixed ones; no job once the job is gone", async () => {
    const submitted = await t.farm.jobs.submit(exampleJob(t.storageRoot, { frames: "1-2", chunk_size: 1 }));
    const live = await t.redis.hmget(t.farm.keys.job(submitted.id), ...JOB_LIVE_FIELDS);
    expect(await new JobRecords(t.redis, t.farm.keys).fromLive(submitted.id, live)).toEqual(
      await t.farm.jobs.get(submitted.id),
    );
    await t.farm.jobs.delete(submitted.id);
    // Gone between the script's answer and the read of the fixed fields.
    expect(await new JobRecords(t.redis, t.farm.keys).fromLive(submitted.id, live)).toBeNull();
    // Gone before the script ran: its HMGET found no id.
    const after = await t.redis.hmget(t.farm.keys.job(submitted.id), ...JOB_LIVE_FIELDS);
    expect(await new JobRecords(t.redis, t.farm.keys).fromLive(submitted.id, after)).toBeNull();
  });
});
