import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientList, FarmSummary, FrameStates } from "../contracts/dashboard/dashboard.js";
import { controlTokensOf } from "../src/app/control.js";
import { FlamencoWorkerSim } from "./simulators/flamenco-worker.js";
import { exampleJob, waitFor } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { openSse } from "./support/sse.js";

/**
 * The dashboard's API and event stream over two gateways on one Redis: a change made through one
 * reaches the other's browsers; each process keeps one subscriber whatever the number of streams.
 */

let a: TestGateway;
let b: TestGateway;
let sim: FlamencoWorkerSim | undefined;

beforeAll(async () => {
  a = await startTestGateway("dash-api", { TASK_TIMEOUT: "2m" });
  b = await a.twinGateway();
});
afterAll(async () => {
  await sim?.stop().catch(() => undefined);
  await b?.close();
  await a?.close();
});

async function json(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { ...init, headers: init.body ? { "content-type": "application/json" } : {} });
  return { status: res.status, body: (await res.json()) as any };
}

describe("dashboard event stream and views", () => {
  it("streams a change made through one gateway to the other's browsers, and renders into the views", async () => {
    const stream = await openSse(`${b.url}/api/dashboard/events`);
    expect(stream.status).toBe(200);
    expect(stream.res.headers.get("content-type")).toContain("text/event-stream");
    await stream.next((e) => e.event === "hello");

    const sub = await json(`${a.url}/api/jobs`, {
      method: "POST",
      body: JSON.stringify(exampleJob(a.storageRoot, { frames: "1-6", chunk_size: 2 })),
    });
    expect(sub.status).toBe(200);
    const jobId = sub.body.id as string;
    const ev = await stream.next((e) => e.event === "job" && JSON.parse(e.data).jobId === jobId);
    expect(JSON.parse(ev.data)).toEqual({ type: "job", jobId });

    expect((await json(`${b.url}/api/dashboard/jobs/not-a-job/frames`)).status).toBe(404);
    const states0 = await json(`${b.url}/api/dashboard/jobs/${jobId}/frames`);
    expect(states0.body).toMatchObject({ frameCount: 6, states: "qqqqqq", runs: [[1, 6]], lastDone: -1 });

    sim = new FlamencoWorkerSim({ url: a.url, pollMinMs: 20, pollMaxMs: 200, asleepPollMs: 50, retryMs: 100 });
    await sim.start();
    // The worker's sign-on is a client event on the other gateway's stream.
    await stream.next((e) => e.event === "client");
    await waitFor(async () => (await json(`${b.url}/api/jobs/${jobId}`)).body.status === "completed");
    await stream.next((e) => e.event === "job" && stream.events.length > 5);

    const states = await json(`${b.url}/api/dashboard/jobs/${jobId}/frames`);
    expect(states.status).toBe(200);
    expect(states.body.states).toBe("dddddd");
    expect(states.body.counts).toEqual({ q: 0, a: 0, d: 6, r: 0, f: 0 });
    expect(states.body.lastDone).toBeGreaterThanOrEqual(0);
    FrameStates.parse(states.body);

    const summary = await json(`${b.url}/api/dashboard/summary`);
    expect(summary.status).toBe(200);
    FarmSummary.parse(summary.body);
    const row = summary.body.jobs.find((j: any) => j.id === jobId);
    expect(row).toMatchObject({ status: "completed", done: 6, failed: 0, active: 0, queued: 0, etaSeconds: 0 });
    expect(summary.body.throughput).toHaveLength(60);
    expect(summary.body.framesLastHour).toBeGreaterThanOrEqual(6);

    const clients = await json(`${b.url}/api/dashboard/clients`);
    ClientList.parse(clients.body);
    const worker = clients.body.clients.find((c: any) => c.name === sim?.nickname);
    expect(worker).toMatchObject({ protocol: "flamenco", done: 6, failed: 0 });
    const detail = await json(`${b.url}/api/dashboard/clients/${worker.id}`);
    expect(detail.body).toMatchObject({ id: worker.id, failuresByJob: [], blocklistedFrom: [] });
    // A Flamenco worker is asked to sleep, not ended.
    expect((await json(`${b.url}/api/dashboard/clients/${worker.id}/end`, { method: "POST" })).status).toBe(422);
    expect((await json(`${b.url}/api/dashboard/clients/nobody/end`, { method: "POST" })).status).toBe(404);

    // Previews of the frames the worker wrote: JPEG, small and large; none for a frame out of range.
    const thumb = await fetch(`${b.url}/api/dashboard/jobs/${jobId}/frames/0/thumbnail`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("content-type")).toBe("image/jpeg");
    const bytes = new Uint8Array(await thumb.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
    expect((await fetch(`${b.url}/api/dashboard/jobs/${jobId}/frames/0/thumbnail?size=large`)).status).toBe(200);
    expect((await fetch(`${b.url}/api/dashboard/jobs/${jobId}/frames/99/thumbnail`)).status).toBe(404);
    expect((await fetch(`${b.url}/api/dashboard/jobs/${jobId}/frames/x/thumbnail`)).status).toBe(400);
    stream.close();
  });

  it("keeps one Redis subscriber per gateway process, however many browsers listen", async () => {
    const channel = b.farm.events.channel;
    // The first test's stream has gone (its listener leaves when the gateway sees it close).
    await waitFor(async () => b.farm.events.listenerCount === 0);
    const streams = await Promise.all(Array.from({ length: 20 }, () => openSse(`${b.url}/api/dashboard/events`)));
    const one = await openSse(`${a.url}/api/dashboard/events`);
    await Promise.all([...streams, one].map((s) => s.next((e) => e.event === "hello")));
    const [, subscribers] = (await a.redis.pubsub("NUMSUB", channel)) as [string, number];
    expect(subscribers).toBe(2);
    expect(b.farm.events.listenerCount).toBe(20);
    for (const s of [...streams, one]) s.close();
    await waitFor(async () => b.farm.events.listenerCount === 0);
  });

  it("is farm control: refused from a foreign network without a token, streamed with one", async () => {
    const foreign = await startTestGateway("dash-foreign", { CONTROL_ALLOWED_NETWORKS: "192.0.2.0/24" });
    try {
      const refused = await fetch(`${foreign.url}/api/dashboard/events`);
      expect(refused.status).toBe(403);
      expect((await fetch(`${foreign.url}/api/dashboard/summary`)).status).toBe(403);
      const { token } = await controlTokensOf(foreign.farm).add("dashboard");
      const s = await openSse(`${foreign.url}/api/dashboard/events`, { authorization: `Bearer ${token}` });
      expect(s.status).toBe(200);
      await s.next((e) => e.event === "hello");
      s.close();
    } finally {
      await foreign.close();
    }
  });
});
