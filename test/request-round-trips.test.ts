import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandCounter } from "./support/command-counter.js";
import { exampleJob } from "./support/farm.js";
import { type SheepitGateway, startSheepitGateway } from "./support/sheepit.js";
import { WorkerClient } from "./support/worker-http.js";

/**
 * Redis round trips of the two hot requests, counted on the farm's connection
 * (test/support/command-counter.ts): a Flamenco worker's `POST /api/worker/task` (a new one-frame
 * claim) and a SheepIt client's `request_job.php`. Independent reads travel together; the bounds
 * keep them from going back to one round trip each.
 */

let gw: SheepitGateway;

beforeAll(async () => {
  gw = await startSheepitGateway("req-rt", { SWEEP_INTERVAL: "1h" });
});
afterAll(async () => {
  await gw?.close();
});

describe("Redis round trips of a request", () => {
  it("Flamenco POST /api/worker/task", async () => {
    const job = await gw.farm.jobs.submit(exampleJob(gw.storageRoot, { frames: "1-20", chunk_size: 1 }));
    const w = await new WorkerClient(gw.url).awake();
    const counter = new CommandCounter(gw.redis);
    const takeAndComplete = async () => {
      const a = await counter.count(() => w.task());
      expect(a.value.status, a.value.text).toBe(200);
      const id = (a.value.body as { uuid: string }).uuid;
      expect((await w.update(id, { taskStatus: "completed" })).status).toBe(204);
      return a;
    };
    await takeAndComplete();
    const a = await takeAndComplete();
    process.stdout.write(`POST /api/worker/task: ${a.roundTrips} round trips, ${a.commands.join(" ")}\n`);
    expect(a.roundTrips).toBeLessThanOrEqual(ROUND_TRIPS.flamenco);
    await gw.farm.jobs.setStatus(job.id, "cancel-requested");
  });

  it("SheepIt request_job.php", async () => {
    await gw.submit("rt-sheepit", { frames: "1-20" });
    const client = gw.client("rt");
    expect(await client.login()).toBe(0);
    const counter = new CommandCounter(gw.redis);
    const requestAndUpload = async () => {
      const r = await counter.count(() => client.requestJob());
      expect(r.value.status).toBe(0);
      if (!r.value.job) throw new Error("no job");
      expect(await client.upload(await client.render(r.value.job))).toBe(0);
      return r;
    };
    await requestAndUpload();
    const r = await requestAndUpload();
    process.stdout.write(`request_job.php: ${r.roundTrips} round trips, ${r.commands.join(" ")}\n`);
    expect(r.roundTrips).toBeLessThanOrEqual(ROUND_TRIPS.sheepit);
  });
});

// Measured: 3 (the session read with its touch; the worker's request, held leases and sleep
// schedule together; the claim, which writes the task log's first line) and 4 (session; user, held
// leases and cached archives' jobs together; those jobs' records; the claim with the farm
// figures; the record of the session's job is written at most once per tenth of the archive access time, AssignmentRecords).
// Before: 6 and 7.
const ROUND_TRIPS = { flamenco: 3, sheepit: 4 };
