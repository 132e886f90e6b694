import { XMLBuilder, XMLParser, XMLValidator } from "fast-xml-parser";
import type { Context } from "hono";
import { CacheBody, type ConfigAnswer, type JobRequestAnswer, SpeedtestBody } from "../../contracts/sheepit/index.js";
import { FarmError } from "../../src/domain/errors.js";

/**
 * SheepIt's XML: answers rendered with fast-xml-parser's builder (attributes escaped, an XML
 * declaration, `text/xml; charset=utf-8`: real clients reject `application/xml`), and the two
 * bodies clients send (`<cache>`, `<speedtest>`) parsed and validated.
 */

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  textNodeName: "#text",
  suppressEmptyNode: true,
  format: false,
});

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name) => name === "file" || name === "result",
  processEntities: true,
});

export const XML_CONTENT_TYPE = "text/xml; charset=utf-8";
const DECLARATION = '<?xml version="1.0" encoding="utf-8" ?>\n';

type Attrs = Record<string, string | number>;

function attrs(a: Attrs): Record<string, string> {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [`@_${k}`, String(v)]));
}

export function renderXml(root: string, content: Record<string, unknown>): string {
  return DECLARATION + builder.build({ [root]: content });
}

/**
 * `<root status="X"/>`. A `<config>` always carries `publickey` (empty on errors): the Java
 * client reads it before it looks at the status, and crashes when it is absent.
 */
export function statusXml(root: string, status: number): string {
  return renderXml(root, attrs(root === "config" ? { status, publickey: "" } : { status }));
}

export function configXml(a: ConfigAnswer): string {
  const content: Record<string, unknown> = {
    ...attrs({ status: a.status, publickey: a.publickey }),
    request: a.requests.map((r) => attrs(r as Attrs)),
  };
  if (a.speedtest && a.speedtest.length > 0) {
    content.speedtest = { target: a.speedtest.map((url) => attrs({ url })) };
  }
  return renderXml("config", content);
}

export function jobRequestXml(a: JobRequestAnswer): string {
  const content: Record<string, unknown> = attrs({ status: a.status });
  if (a.stats) content.stats = attrs(a.stats);
  if (a.job) {
    const { renderer, script, chunks, ...job } = a.job;
    content.job = {
      ...attrs(job as Attrs),
      renderer: attrs(renderer),
      chunks: { chunk: chunks.map((c) => attrs(c)) },
      script: { "#text": script },
    };
  }
  if (a.deleteFiles && a.deleteFiles.length > 0) {
    content.file = a.deleteFiles.map((md5) => attrs({ md5, action: "delete" }));
  }
  return renderXml("jobrequest", content);
}

/** An XML answer with the content type real clients require. */
export function xmlResponse(c: Context, xml: string, httpStatus: 200 | 400 | 413 = 200): Response {
  return c.body(xml, httpStatus, { "Content-Type": XML_CONTENT_TYPE });
}

/**
 * Parses an XML document; `invalid` FarmError when it is not well-formed. Clients never send a
 * DOCTYPE, so one is refused outright (no entity expansion, no external entities).
 */
export function parseXml(text: string, field: string): Record<string, unknown> {
  if (/<!DOCTYPE/i.test(text)) throw new FarmError("invalid", `${field}: a DOCTYPE is not accepted`, { field });
  const check = XMLValidator.validate(text);
  if (check !== true) {
    throw new FarmError("invalid", `${field}: malformed XML (${check.err.msg}, line ${check.err.line})`, { field });
  }
  try {
    return parser.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new FarmError("invalid", `${field}: malformed XML (${(err as Error).message})`, { field });
  }
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** request_job's body: `<cache/>` or `<cache><file md5="..."/>...</cache>`; empty means none. */
export function parseCache(text: string): CacheBody {
  if (text.trim() === "") return { files: [] };
  const doc = parseXml(text, "cache");
  if (!("cache" in doc))
    throw new FarmError("invalid", "cache: the body's root element must be <cache>", { field: "cache" });
  const files = asRecord(doc.cache).file;
  const parsed = CacheBody.safeParse({ files: Array.isArray(files) ? files.map(asRecord) : [] });
  if (!parsed.success) throw new FarmError("invalid", "cache: every <file> needs an md5 attribute", { field: "cache" });
  return parsed.data;
}

/** speedtest-answer's body: `<speedtest><result target speed ping/>...</speedtest>`. */
export function parseSpeedtest(text: string): SpeedtestBody {
  const doc = parseXml(text, "speedtest");
  if (!("speedtest" in doc)) {
    throw new FarmError("invalid", "speedtest: the body's root element must be <speedtest>", { field: "speedtest" });
  }
  const results = asRecord(doc.speedtest).result;
  const parsed = SpeedtestBody.safeParse({ results: Array.isArray(results) ? results.map(asRecord) : [] });
  if (!parsed.success) {
    throw new FarmError("invalid", "speedtest: each <result> needs target, speed and ping", { field: "speedtest" });
  }
  return parsed.data;
}
