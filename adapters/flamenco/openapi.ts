import { Hono } from "hono";
import { html, raw } from "hono/html";
import { z } from "zod";
import { type Operation, operations } from "../../contracts/flamenco/operations.js";
import { version } from "../../src/app/version.js";
import { isControlPath } from "../http/control-auth.js";

type JsonSchema = Record<string, unknown>;

/** Drops what OpenAPI 3.0 components do not take ($id) and the regexes zod adds beside formats. */
function tidy(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(tidy);
  if (!schema || typeof schema !== "object") return schema;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(schema as JsonSchema)) {
    if (k === "$id" || k === "$schema") continue;
    if (k === "pattern" && "format" in (schema as JsonSchema)) continue;
    if (k === "additionalProperties" && v === false) continue;
    if ((k === "minimum" || k === "maximum") && Math.abs(Number(v)) >= Number.MAX_SAFE_INTEGER) continue;
    out[k] = tidy(v);
  }
  return out;
}

function ref(schema: z.ZodType): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  if (!id) throw new Error("every schema an operation names needs .meta({ id })");
  return { $ref: `#/components/schemas/${id}` };
}

function operationObject(op: Operation): JsonSchema {
  const o: JsonSchema = { operationId: op.operationId, summary: op.summary, tags: [op.tag] };
  if (!op.inSpec)
    o.description = "Added by Bellwether after the 2022 API, following later Flamenco Managers (without /v3).";
  if (op.workerAuth) o.security = [{ worker_auth: [] }];
  // Farm control: a control token, or none from CONTROL_ALLOWED_NETWORKS (the empty alternative).
  else if (isControlPath(op.path)) o.security = [{ control_token: [] }, {}];
  if (op.params?.length) {
    o.parameters = op.params.map((p) => ({
      name: p.name,
      in: p.in,
      required: p.required,
      description: p.description,
      schema: { type: p.type ?? "string", ...(p.format ? { format: p.format } : {}) },
    }));
  }
  if (op.request) {
    o.requestBody = { required: true, content: { "application/json": { schema: ref(op.request) } } };
  }
  const responses: JsonSchema = {};
  for (const [status, r] of Object.entries(op.responses)) {
    responses[status] = {
      description: r.description,
      ...(r.schema
        ? { content: { "application/json": { schema: ref(r.schema) } } }
        : r.contentType
          ? { content: { [r.contentType]: { schema: { type: "string" } } } }
          : {}),
    };
  }
  o.responses = responses;
  return o;
}

/** The gateway's whole JSON API as an OpenAPI 3.0 document, built from contracts/flamenco. */
export function buildOpenApi(): JsonSchema {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    target: "openapi-3.0",
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
  }) as { schemas: Record<string, unknown> };
  const paths: Record<string, JsonSchema> = {};
  for (const op of operations) {
    paths[op.path] = { ...(paths[op.path] ?? {}), [op.method]: operationObject(op) };
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "Bellwether (Flamenco Manager API)",
      version,
      description:
        "Flamenco's Manager API as Bellwether serves it: the 2022 API under /api/, plus the job and worker management operations of later Managers (without their /v3).",
      license: { name: "MIT" },
    },
    servers: [{ url: "/" }],
    tags: [
      { name: "meta", description: "Info about the Manager itself." },
      { name: "jobs", description: "Job & task queries, submission, and management." },
      { name: "worker", description: "API for Flamenco Workers to communicate with the Manager." },
      { name: "worker-mgt", description: "Worker management." },
      { name: "dashboard", description: "The web dashboard's views and live event stream (Bellwether's own)." },
    ],
    paths,
    components: {
      schemas: tidy(schemas),
      securitySchemes: {
        worker_auth: {
          type: "http",
          scheme: "basic",
          description: "Username is the worker ID, password is the secret given at worker registration.",
        },
        control_token: {
          type: "http",
          scheme: "bearer",
          description:
            "Farm control (job submission and management, tasks and logs, worker management) from outside CONTROL_ALLOWED_NETWORKS: `Authorization: Bearer <token>` with a token made by `bellwether token add <name>`. From an allowed network no token is needed.",
        },
      },
    },
  };
}

/** `GET /api/openapi.json` and the human-readable reference at `GET /api/docs`. */
export function openApiRoutes() {
  const doc = buildOpenApi();
  const page = referencePage(doc);
  const app = new Hono();
  app.get("/openapi.json", (c) => c.json(doc));
  app.get("/docs", (c) => c.html(page));
  return app;
}

function schemaText(schema: unknown): string {
  return JSON.stringify(schema, null, 2);
}

function referencePage(doc: JsonSchema) {
  const components = (doc.components as { schemas: Record<string, unknown> }).schemas;
  const byTag = new Map<string, Operation[]>();
  for (const op of operations) byTag.set(op.tag, [...(byTag.get(op.tag) ?? []), op]);
  const opHtml = (op: Operation) => {
    const id = `${op.method}-${op.path}`.replace(/[^a-z0-9]+/gi, "-");
    const req = op.request ? z.globalRegistry.get(op.request)?.id : undefined;
    return html`<section class="op" id="${id}">
      <h3><span class="m ${op.method}">${op.method.toUpperCase()}</span> <code>${op.path}</code></h3>
      <p>${op.summary}${op.workerAuth ? " (worker auth: HTTP Basic)" : ""}${op.inSpec ? "" : html` <em>(later Managers)</em>`}</p>
      ${op.params?.length ? html`<p>Parameters: ${op.params.map((p) => html`<code>${p.name}</code> (${p.in}) `)}</p>` : ""}
      ${req ? html`<p>Body: <a href="#schema-${req}">${req}</a></p>` : ""}
      <ul>
        ${Object.entries(op.responses).map(([status, r]) => {
          const sid = r.schema ? z.globalRegistry.get(r.schema)?.id : undefined;
          return html`<li><b>${status}</b> ${r.description}${sid ? html`: <a href="#schema-${sid}">${sid}</a>` : ""}</li>`;
        })}
      </ul>
    </section>`;
  };
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Bellwether API reference</title>
    <style>
      body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
      code, pre { font-family: ui-monospace, monospace; }
      pre { background: #f5f5f5; padding: .75rem; overflow-x: auto; font-size: 13px; }
      .op { border-top: 1px solid #ddd; padding-top: .5rem; }
      .m { display: inline-block; min-width: 4.5rem; text-align: center; border-radius: 4px; color: #fff; font-size: 13px; padding: 0 .4rem; }
      .get { background: #2b7bb9; } .post { background: #3a9b48; } .delete { background: #c0392b; }
    </style>
  </head>
  <body>
    <h1>Bellwether API reference</h1>
    <p>Version ${version}. The machine-readable document is <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.0).
    SheepIt clients use the PHP-style endpoints under <code>/server/</code>, documented in the README.</p>
    ${[...byTag.entries()].map(([tag, ops]) => html`<h2>${tag}</h2>${ops.map(opHtml)}`)}
    <h2>Schemas</h2>
    ${Object.entries(components).map(
      ([name, s]) =>
        html`<section id="schema-${name}"><h3>${name}</h3><pre>${raw(escapeHtml(schemaText(s)))}</pre></section>`,
    )}
  </body>
</html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
