import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleJob } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway("ops");
});
afterAll(async () => {
  await gw.close();
});

describe("ops endpoints", () => {
  it("answers /healthz and /readyz", async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
  });

  it("exports Prometheus metrics: jobs, frames, sessions and request latency by route", async () => {
    const res = await fetch(`${gw.url}/api/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(exampleJob(gw.storageRoot, { frames: "1-6", chunk_size: 2 })),
    });
    const job = (await res.json()) as { id: string };
    await fetch(`${gw.url}/api/jobs/${job.id}`);
    await gw.farm.sessions.put({
      id: "m1",
      protocol: "flamenco",
      name: "box",
      status: "awake",
      caps: { sessionId: "m1", taskTypes: ["blender"], device: "any" },
      created: new Date().toISOString(),
      lastSeen: Date.now(),
      attrs: {},
    });
    const held = await gw.farm.work.claim({
      caps: { sessionId: "m1", taskTypes: ["blender"], device: "any" },
      maxFrames: "job-chunk",
      leaseMs: 60_000,
    });
    await gw.farm.work.complete(held?.lease.id as string, "m1");
    await gw.farm.work.claim({
      caps: { sessionId: "m1", taskTypes: ["blender"], device: "any" },
      maxFrames: "job-chunk",
      leaseMs: 60_000,
    });
    const metrics = await fetch(`${gw.url}/metrics`);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toContain('bellwether_jobs{status="active"} 1');
    expect(text).toContain('bellwether_frames{state="completed"} 2');
    expect(text).toContain('bellwether_frames{state="active"} 2');
    expect(text).toContain('bellwether_frames{state="queued"} 2');
    expect(text).toContain('bellwether_sessions{protocol="flamenco",status="awake"} 1');
    expect(text).toMatch(
      /bellwether_request_duration_seconds_count\{protocol="flamenco",method="GET",route="\/api\/jobs\/:job_id",status="200"\} 1/,
    );
  });

  it("reports not ready when Redis does not answer", async () => {
    const other = await startTestGateway("ops-down");
    try {
      other.redis.disconnect();
      const res = await fetch(`${other.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { status: string }).status).toBe("not ready");
    } finally {
      await other.close().catch(() => undefined);
    }
  });
});
