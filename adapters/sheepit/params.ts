import type { Context } from "hono";
import type { z } from "zod";
import { FarmError } from "../../src/domain/errors.js";

/** Bodies of the small endpoints (forms, `<cache>`, `<speedtest>`) are capped at this many bytes. */
export const SMALL_BODY_MAX = 1024 * 1024;

/** Reads the body as text, at most `max` bytes (`too-large` past it). */
export async function readText(c: Context, max = SMALL_BODY_MAX): Promise<string> {
  const length = c.req.header("content-length");
  const declared = Number(length ?? "0");
  if (declared > max) throw new FarmError("too-large", `the request body exceeds ${max} bytes`);
  // A body of a declared length (HTTP framing holds it to that length) is read whole, through the
  // server adapter's fast path (no web stream); a chunked one is counted while it comes.
  if (length !== undefined && c.req.header("transfer-encoding") === undefined) return c.req.raw.text();
  const body = c.req.raw.body;
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new FarmError("too-large", `the request body exceeds ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The query string's parameters (first value of each). */
export function queryParams(c: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URL(c.req.url).searchParams) if (!(k in out)) out[k] = v;
  return out;
}

export function isForm(c: Context): boolean {
  return (c.req.header("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
}

/**
 * Parameters from the query string and a form body alike (SheepIt reads them "as GET or POST");
 * body values win. Other bodies are left unread for the endpoint.
 */
export async function formAndQuery(c: Context): Promise<Record<string, string>> {
  const out = queryParams(c);
  if (c.req.method === "POST" && isForm(c)) {
    for (const [k, v] of new URLSearchParams(await readText(c))) out[k] = v;
  }
  return out;
}

/** Validates parameters against a contract; `invalid` naming the first offending one. */
export function parseParams<S extends z.ZodType>(values: Record<string, string>, schema: S): z.output<S> {
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? "parameters");
    throw new FarmError("invalid", `${field}: ${issue?.message ?? "invalid"}`, { field });
  }
  return parsed.data;
}
