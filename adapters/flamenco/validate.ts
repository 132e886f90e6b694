import type { Context } from "hono";
import type { z } from "zod";
import { FarmError } from "../../src/domain/errors.js";
import { describeZodError } from "./errors.js";

/**
 * Reads and validates a JSON body against a contract. Malformed JSON, a wrong content and a body
 * that does not fit the schema all become `invalid` FarmErrors (400), never a 500.
 */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let raw: unknown;
  try {
    const text = await c.req.text();
    raw = text.trim() === "" ? undefined : JSON.parse(text);
  } catch {
    throw new FarmError("invalid", "the request body is not valid JSON", { field: "body" });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new FarmError("invalid", describeZodError(parsed.error), {
      field: String(parsed.error.issues[0]?.path[0] ?? "body"),
    });
  }
  return parsed.data;
}

/** Validates path or query parameters against a contract (`invalid` → 400). */
export function params<S extends z.ZodType>(values: unknown, schema: S): z.output<S> {
  const parsed = schema.safeParse(values);
  if (!parsed.success) throw new FarmError("invalid", describeZodError(parsed.error, "parameters"));
  return parsed.data;
}
