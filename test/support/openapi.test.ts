import { describe, expect, it } from "vitest";
import { expectMatchesSchema, flamencoSchemas, OpenApiSchemas, specExample, validateAgainst } from "./openapi.js";

const job = {
  id: "0f0b1b7e-3c1a-4e55-9b59-7d2f0c1e2a33",
  name: "3Д рендеринг",
  type: "simple-blender-render",
  priority: 50,
  settings: { frames: "1-10", chunk_size: 3 },
  metadata: { project: "Sprite Fright" },
  created: "2022-03-01T10:00:00.000Z",
  updated: "2022-03-01T10:00:01.000Z",
  status: "queued",
};

describe("the Flamenco OpenAPI schemas as a validator", () => {
  it("loads every component of flamenco-openapi.yaml", () => {
    const names = flamencoSchemas().names;
    for (const n of ["Job", "SubmittedJob", "Error", "AvailableJobTypes", "FlamencoVersion", "AssignedTask"]) {
      expect(names).toContain(n);
    }
  });

  it("accepts a valid Job (allOf SubmittedJob + id/created/updated/status)", () => {
    expect(validateAgainst("Job", job)).toEqual([]);
    expect(() => expectMatchesSchema("Job", job)).not.toThrow();
  });

  it("rejects a Job missing a part from either side of its allOf, or with bad formats", () => {
    const { priority: _p, ...noPriority } = job; // required by SubmittedJob
    expect(validateAgainst("Job", noPriority).join("\n")).toMatch(/priority/);
    const { status: _s, ...noStatus } = job; // required by Job's own part
    expect(validateAgainst("Job", noStatus).join("\n")).toMatch(/status/);
    expect(validateAgainst("Job", { ...job, id: "not-a-uuid" }).join("\n")).toMatch(/\/id .*format.*uuid/);
    expect(validateAgainst("Job", { ...job, created: "yesterday" }).join("\n")).toMatch(/\/created .*date-time/);
    expect(validateAgainst("Job", { ...job, status: "sleeping" }).join("\n")).toMatch(/\/status .*allowed values/);
    expect(validateAgainst("Job", { ...job, metadata: { n: 3 } }).join("\n")).toMatch(/\/metadata\/n must be string/);
    expect(validateAgainst("Job", { ...job, priority: 1.5 }).join("\n")).toMatch(/\/priority must be integer/);
  });

  it("validates Error (int32 code) and FlamencoVersion", () => {
    expect(validateAgainst("Error", { code: 400, message: "bad" })).toEqual([]);
    expect(validateAgainst("Error", { code: "400", message: "bad" }).join("\n")).toMatch(/\/code must be integer/);
    expect(validateAgainst("Error", { code: 2 ** 40, message: "bad" }).join("\n")).toMatch(/int32/);
    expect(validateAgainst("Error", { message: "bad" }).join("\n")).toMatch(/code/);
    expect(validateAgainst("FlamencoVersion", { name: "x", version: "1" })).toEqual([]);
    expect(validateAgainst("FlamencoVersion", { name: "x" })).not.toEqual([]);
  });

  it("follows $refs through arrays (AvailableJobTypes → AvailableJobSetting → its enums)", () => {
    const types = {
      job_types: [{ name: "t", label: "T", settings: [{ key: "frames", type: "string", required: true }] }],
    };
    expect(validateAgainst("AvailableJobTypes", types)).toEqual([]);
    const bad = structuredClone(types);
    (bad.job_types[0]?.settings[0] as { type: string }).type = "list";
    expect(validateAgainst("AvailableJobTypes", bad).join("\n")).toMatch(/\/job_types\/0\/settings\/0\/type/);
  });

  it("throws a readable error naming the schema, the path and the value", () => {
    expect(() => expectMatchesSchema("Error", { code: 1 })).toThrow(/schema "Error"[\s\S]*message[\s\S]*value:/);
  });

  it("gives the spec's examples, and its SubmittedJob example is a valid SubmittedJob", () => {
    const example = specExample("SubmittedJob");
    expect(example.type).toBe("simple-blender-render");
    expect(validateAgainst("SubmittedJob", example)).toEqual([]);
    expect(() => specExample("Error")).toThrow(/no example/);
    expect(() => validateAgainst("NoSuchThing", {})).toThrow(/no schema "NoSuchThing"/);
  });

  it("handles OpenAPI's nullable and refuses refs it cannot resolve", () => {
    const doc = {
      components: {
        schemas: {
          Thing: { type: "object", properties: { note: { type: "string", nullable: true } }, required: ["note"] },
          Broken: { $ref: "#/paths/x" },
        },
      },
    };
    expect(() => new OpenApiSchemas(doc)).toThrow(/unsupported \$ref/);
    const ok = new OpenApiSchemas({ components: { schemas: { Thing: doc.components.schemas.Thing } } });
    expect(ok.validate("Thing", { note: null })).toEqual([]);
    expect(ok.validate("Thing", { note: 3 })).not.toEqual([]);
  });
});
