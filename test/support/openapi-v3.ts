import path from "node:path";
import { OpenApiSchemas, specsDir } from "./openapi.js";

/** Contract checks against `flamenco-openapi-v3.yaml` (Flamenco 3.0-beta1), as test/support/openapi.ts does for 2022. */
export const FLAMENCO_OPENAPI_V3 = "flamenco-openapi-v3.yaml";

let v3: OpenApiSchemas | undefined;

export function flamencoV3Schemas(): OpenApiSchemas {
  v3 ??= OpenApiSchemas.fromFile(path.join(specsDir(), FLAMENCO_OPENAPI_V3));
  return v3;
}

/** Throws, listing ajv's errors, unless `value` matches the v3 component `name`. */
export function expectMatchesV3(name: string, value: unknown): void {
  const errors = flamencoV3Schemas().validate(name, value);
  if (errors.length === 0) return;
  throw new Error(
    `value does not match ${FLAMENCO_OPENAPI_V3} schema "${name}":\n  ${errors.join("\n  ")}\nvalue: ${JSON.stringify(value)?.slice(0, 2000)}`,
  );
}
