import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { controlAuth, isControlPath } from "./control-auth.js";

function appWith(verifyToken: (t: string) => Promise<string | null>) {
  const app = new Hono();
  app.use(controlAuth({ allowedNetworks: ["127.0.0.0/8"], verifyToken }));
  app.get("/api/jobs", (c) => c.json({ jobs: [] }));
  return app;
}

describe("control auth middleware", () => {
  it("guards control paths by default and leaves the open ones open", () => {
    expect(isControlPath("/api/jobs")).toBe(true);
    expect(isControlPath("/api/whatever-new")).toBe(true);
    expect(isControlPath("/metrics")).toBe(true);
    expect(isControlPath("/api/version")).toBe(false);
    expect(isControlPath("/api/worker/task")).toBe(false);
    expect(isControlPath("/server/config.php")).toBe(false);
  });

  it("leaves open Flamenco 3's job types, one by one too, and nothing below them", () => {
    expect(isControlPath("/api/v3/jobs/types")).toBe(false);
    expect(isControlPath("/api/v3/jobs/type/simple-blender-render")).toBe(false);
    expect(isControlPath("/api/v3/jobs/type/x/y")).toBe(true);
    expect(isControlPath("/api/v3/jobs/type")).toBe(true);
    expect(isControlPath("/api/v3/worker-mgt/workers/x/sleep-schedule")).toBe(true);
  });

  it("answers 503 Error JSON, not a 500, when the token cannot be checked", async () => {
    const app = appWith(async () => {
      throw new Error("Connection is closed.");
    });
    const res = await app.request("/api/jobs", { headers: { authorization: "Bearer abc" } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toMatch(/cannot be checked/);
  });

  it("refuses an in-process request with no address and a wrong token", async () => {
    const res = await appWith(async () => null).request("/api/jobs", { headers: { authorization: "Bearer x" } });
    expect(res.status).toBe(403);
  });
});
