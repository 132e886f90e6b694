import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operations } from "../contracts/flamenco/operations.js";
import { createHttpApp } from "../src/app/server.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";
import { specDocument } from "./support/openapi.js";

let gw: TestGateway;
let doc: Record<string, any>;
beforeAll(async () => {
  gw = await startTestGateway("openapi");
  const res = await fetch(`${gw.url}/api/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Record<string, any>;
});
afterAll(async () => {
  await gw.close();
});

describe("/api/openapi.json", () => {
  it("validates as an OpenAPI 3 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\.0\./);
  });

  it("covers every JSON route the gateway serves under /api, and nothing it does not", () => {
    const app = createHttpApp(gw.farm);
    const served = new Set(
      app.routes
        .filter(
          (r) =>
            r.path.startsWith("/api/") && !r.path.startsWith("/api/v3/") && r.method !== "ALL" && !r.path.includes("*"),
        )
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([a-z_]+)/g, "{$1}")}`),
    );
    served.delete("get /api/openapi.json");
    served.delete("get /api/docs");
    const documented = new Set(operations.map((o) => `${o.method} ${o.path}`));
    expect([...served].filter((x) => !documented.has(x))).toEqual([]);
    expect([...documented].filter((x) => !served.has(x))).toEqual([]);
    for (const key of documented) {
      const [method, path] = key.split(" ") as [string, string];
      expect(doc.paths[path]?.[method], key).toBeDefined();
    }
  });

  it("keeps the spec's own operations: ids, methods, paths and component names", () => {
    const spec = specDocument();
    for (const [path, item] of Object.entries(spec.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) {
        if (typeof op !== "object" || !op.operationId) continue;
        expect(doc.paths[path]?.[method]?.operationId, `${method} ${path}`).toBe(op.operationId);
      }
    }
    const ours = Object.keys(doc.components.schemas);
    for (const name of [
      "Job",
      "SubmittedJob",
      "Error",
      "SecurityError",
      "AssignedTask",
      "RegisteredWorker",
      "TaskUpdate",
    ]) {
      expect(ours).toContain(name);
    }
    // The spec's required fields are required here too.
    const required = (name: string) => new Set<string>(doc.components.schemas[name].required ?? []);
    for (const name of ["Job", "SubmittedJob", "AssignedTask", "WorkerRegistration", "Error"]) {
      const specSchema = spec.components.schemas[name];
      const specRequired: string[] =
        specSchema.required ?? specSchema.allOf?.flatMap((s: any) => s.required ?? []) ?? [];
      for (const field of specRequired) expect(required(name).has(field), `${name}.${field}`).toBe(true);
    }
  });

  it("declares how each operation authenticates: worker Basic auth, a control bearer token, or none", () => {
    expect(doc.components.securitySchemes.control_token).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.worker_auth).toMatchObject({ type: "http", scheme: "basic" });
    expect(doc.paths["/api/jobs"].post.security).toEqual([{ control_token: [] }, {}]);
    expect(doc.paths["/api/worker-mgt/workers"].get.security).toEqual([{ control_token: [] }, {}]);
    expect(doc.paths["/api/worker/task"].post.security).toEqual([{ worker_auth: [] }]);
    expect(doc.paths["/api/version"].get.security).toBeUndefined();
    expect(doc.paths["/api/jobs/types"].get.security).toBeUndefined();
    expect(doc.paths["/api/worker/register-worker"].post.security).toBeUndefined();
  });

  it("serves a human-readable reference page", async () => {
    const res = await fetch(`${gw.url}/api/docs`);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await res.text();
    for (const op of operations) expect(page).toContain(op.path);
    expect(page).toContain('id="schema-AssignedTask"');
  });
});
