import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { parse as parseYaml } from "yaml";

/**
 * Contract checks against `flamenco-openapi.yaml`, loaded from the shared specs (never copied
 * into the repo): its `components.schemas` become one JSON Schema document for ajv, so real
 * responses can be validated against the spec itself.
 *
 *   expectMatchesSchema("Job", await res.json());          // throws with ajv's errors
 *   expect(validateAgainst("Error", body)).toEqual([]);    // or look at the list
 *
 * OpenAPI 3.0 flavour handled: `$ref: "#/components/schemas/X"`, `nullable` (ajv knows it),
 * `format` uuid/date-time/int32/... (ajv-formats), `allOf` compositions (e.g. `Job` = SubmittedJob +
 * its own properties), and OpenAPI's annotation keywords (`example`, ...) that JSON Schema lacks.
 */

/** Where the specs live: `$SPECS_DIR`, else `../shared/specs` beside the repository. */
export function specsDir(): string {
  if (process.env.SPECS_DIR) return path.resolve(process.env.SPECS_DIR);
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  return path.resolve(repoRoot, "..", "shared", "specs");
}

export const FLAMENCO_OPENAPI = "flamenco-openapi.yaml";

interface OpenApiDoc {
  components?: { schemas?: Record<string, unknown> };
  [key: string]: unknown;
}

/** Keywords OpenAPI 3.0 adds to a schema that mean nothing to validation. */
const OPENAPI_ANNOTATIONS = ["example", "xml", "externalDocs", "discriminator"];

const DOC_ID = "openapi";

/** Rewrites `#/components/schemas/X` to `openapi#/definitions/X` everywhere in `node`. */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string") {
      const m = /^#\/components\/schemas\/(.+)$/.exec(value);
      if (!m) throw new Error(`openapi: unsupported $ref "${value}" (only #/components/schemas/... is handled)`);
      out.$ref = `${DOC_ID}#/definitions/${m[1]}`;
    } else {
      out[key] = rewriteRefs(value);
    }
  }
  return out;
}

/** A validator over one OpenAPI document's `components.schemas`. */
export class OpenApiSchemas {
  readonly doc: OpenApiDoc;
  readonly names: readonly string[];
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(
    doc: OpenApiDoc,
    readonly source = "openapi document",
  ) {
    this.doc = doc;
    const schemas = doc.components?.schemas;
    if (!schemas || typeof schemas !== "object") throw new Error(`${source}: no components.schemas`);
    this.names = Object.keys(schemas);
    // strictTypes off: OpenAPI documents routinely write `properties` without `type: object`
    // inside an allOf (the spec's `Job` does); everything else stays strict.
    this.ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
    addFormats(this.ajv);
    if (!this.ajv.formats.int32) this.ajv.addFormat("int32", true);
    // Flamenco 3's WorkerSleepSchedule times: "HH:MM", or "" for the day's start or end.
    if (!this.ajv.formats["HH:MM"]) this.ajv.addFormat("HH:MM", /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)?$/);
    for (const keyword of OPENAPI_ANNOTATIONS) this.ajv.addKeyword(keyword);
    this.ajv.addSchema({ $id: DOC_ID, definitions: rewriteRefs(schemas) as Record<string, object> });
  }

  /** Loads a YAML (or JSON) OpenAPI file. */
  static fromFile(file: string): OpenApiSchemas {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      throw new Error(`cannot read the OpenAPI spec at ${file} (set SPECS_DIR?): ${(err as Error).message}`);
    }
    return new OpenApiSchemas(parseYaml(text) as OpenApiDoc, path.basename(file));
  }

  /** The raw (OpenAPI) schema of a component, e.g. to read its `example`. */
  schema(name: string): Record<string, unknown> {
    const s = this.doc.components?.schemas?.[name];
    if (!s || typeof s !== "object")
      throw new Error(`${this.source}: no schema "${name}" (have: ${this.names.join(", ")})`);
    return s as Record<string, unknown>;
  }

  private validator(name: string): ValidateFunction {
    let v = this.compiled.get(name);
    if (!v) {
      this.schema(name);
      const found = this.ajv.getSchema(`${DOC_ID}#/definitions/${name}`);
      if (!found) throw new Error(`${this.source}: could not compile schema "${name}"`);
      v = found;
      this.compiled.set(name, v);
    }
    return v;
  }

  /** The errors of `value` against the named component, one readable line each; [] when valid. */
  validate(name: string, value: unknown): string[] {
    const v = this.validator(name);
    if (v(value)) return [];
    return (v.errors ?? []).map(describeError);
  }
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath === "" ? "(root)" : e.instancePath;
  const params = Object.entries(e.params ?? {})
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
  return `${where} ${e.message ?? "is invalid"}${params ? ` (${params})` : ""} [${e.schemaPath}]`;
}

let flamenco: OpenApiSchemas | undefined;

/** The schemas of `flamenco-openapi.yaml`, loaded once per test file. */
export function flamencoSchemas(): OpenApiSchemas {
  flamenco ??= OpenApiSchemas.fromFile(path.join(specsDir(), FLAMENCO_OPENAPI));
  return flamenco;
}

/** Errors of `value` against the Flamenco component `componentName`; [] when it matches. */
export function validateAgainst(componentName: string, value: unknown): string[] {
  return flamencoSchemas().validate(componentName, value);
}

/** Throws, listing ajv's errors and the value, unless `value` matches the Flamenco component. */
export function expectMatchesSchema(componentName: string, value: unknown): void {
  const errors = validateAgainst(componentName, value);
  if (errors.length === 0) return;
  const shown = JSON.stringify(value, null, 2);
  throw new Error(
    `value does not match ${FLAMENCO_OPENAPI} schema "${componentName}":\n  ${errors.join("\n  ")}\nvalue: ${
      shown && shown.length > 2000 ? `${shown.slice(0, 2000)}…` : shown
    }`,
  );
}

/** The `example` the spec gives for a component (a deep copy), e.g. the example SubmittedJob. */
export function specExample<T = Record<string, unknown>>(componentName: string): T {
  const example = flamencoSchemas().schema(componentName).example;
  if (example === undefined) throw new Error(`${FLAMENCO_OPENAPI}: schema "${componentName}" has no example`);
  return structuredClone(example) as T;
}

/** A parsed OpenAPI document: free-form JSON, typed loosely for reading in tests. */
export interface SpecDocument {
  // biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is free-form JSON
  paths: Record<string, Record<string, any>>;
  // biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is free-form JSON
  components: { schemas: Record<string, any>; [key: string]: unknown };
  [key: string]: unknown;
}

/** The whole parsed `flamenco-openapi.yaml` (paths, components, ...), as loaded. */
export function specDocument(): SpecDocument {
  return flamencoSchemas().doc as SpecDocument;
}
