import { afterAll, describe, expect, it } from "vitest";
import type { Capabilities } from "../src/domain/scheduling/capabilities.js";
import { createTestFarm, exampleJob, type TestFarm } from "./support/farm.js";

const farms: TestFarm[] = [];
afterAll(async () => {
  for (const t of farms.reverse()) await t.close();
});

const caps = (sessionId: string): Capabilities => ({ sessionId, taskTypes: ["blender"], device: "any" });

/** Clients of the test Redis whose name mentions this farm's prefix (what its processes opened). */
async function farmConnections(t: TestFarm): Promise<string[]> {
  const list = (await t.redis.client("LIST")) as string;
  return list
    .split("\n")
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? "")
    .filter((name) => name.includes(t.prefix));
}

describe("Redis connections of a gateway process", () => {
  it("stay the same however many jobs are runnable, claimed from and swept", async () => {
    const a = createTestFarm("conns", { SWEEP_INTERVAL: "1h" });
    farms.push(a);
    const b = a.twin();
    farms.push(b);
    // Name each process's main connection after the farm, so the count below sees every one.
    await a.redis.client("SETNAME", `test-main-a-${a.prefix}`);
    await b.redis.client("SETNAME", `test-main-b-${b.prefix}`);

    const counts: number[] = [];
    const jobIds: string[] = [];
    const claimedJobs = new Set<string>();
    let framesClaimed = 0;
    for (const target of [1, 40, 240]) {
      while (jobIds.length < target) {
        const def = exampleJob(a.storageRoot, { frames: "1-2", chunk_size: 1 });
        jobIds.push((await (jobIds.length % 2 ? b : a).farm.jobs.submit(def)).id);
      }
      // Every job gets a claim from one process or the other (frame 1 of each; frame 2 stays queued).
      for (const [k, t] of [a, b].entries()) {
        for (let n = 0; n < target; n += 2) {
          const got = await t.farm.work.claim({ caps: caps(`s-${target}-${k}-${n}`), maxFrames: 1, leaseMs: 60_000 });
          expect(got).not.toBeNull();
          if (got) claimedJobs.add(got.job.id);
          framesClaimed += 1;
        }
      }
      await a.farm.sweep();
      await b.farm.sweep();
      counts.push((await farmConnections(a)).length);
    }
    // Two processes: each its main connection and at most a few of the scheduler's own.
    expect(counts[0]).toBeGreaterThanOrEqual(2);
    expect(counts[2]).toBe(counts[0]);
    expect(counts[2]).toBeLessThanOrEqual(2 * 20);
    // Every job stays claimable: every frame of every job is handed out.
    for (;;) {
      const got = await a.farm.work.claim({ caps: caps(`drain-${framesClaimed}`), maxFrames: 1, leaseMs: 60_000 });
      if (!got) break;
      claimedJobs.add(got.job.id);
      framesClaimed += 1;
    }
    expect(claimedJobs.size).toBe(jobIds.length);
    expect(framesClaimed).toBe(2 * jobIds.length);
  }, 120_000);
});
