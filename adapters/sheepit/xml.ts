import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { Context } from "hono";
import { CacheBody, type ConfigAnswer, type JobRequestAnswer, SpeedtestBody } from "../../contracts/sheepit/index.js";
import { FarmError } from "../../src/domain/errors.js";
import { writeXml, type XmlElement } from "./xml-writer.js";

/**
 * SheepIt's XML: answers written by xml-writer.ts (attributes escaped, an XML declaration,
 * `text/xml; charset=utf-8`: real clients reject `application/xml`), and the two bodies clients
 * send (`<cache>`, `<speedtest>`) parsed with fast-xml-parser and validated.
 */

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

export function renderXml(root: XmlElement): string {
  return DECLARATION + writeXml(root);
}

/**
 * `<root status="X"/>`. A `<config>` always carries `publickey` (empty on errors): the Java
 * client reads it before it looks at the status, and crashes when it is absent.
 */
export function statusXml(root: string, status: number): string {
  return renderXml({ name: root, attrs: root === "config" ? { status, publickey: "" } : { status } });
}

export function configXml(a: ConfigAnswer): string {
  const children: XmlElement[] = a.requests.map((r) => ({ name: "request", attrs: r as Attrs }));
  if (a.speedtest && a.speedtest.length > 0) {
    children.push({ name: "speedtest", children: a.speedtest.map((url) => ({ name: "target", attrs: { url } })) });
  }
  return renderXml({ name: "config", attrs: { status: a.status, publickey: a.publickey }, children });
}

export function jobRequestXml(a: JobRequestAnswer): string {
  const children: XmlElement[] = [];
  if (a.stats) children.push({ name: "stats", attrs: a.stats });
  if (a.job) {
    const { renderer, script, chunks, ...job } = a.job;
    children.push({
      name: "job",
      attrs: job as Attrs,
      children: [
        { name: "renderer", attrs: renderer },
        { name: "chunks", children: chunks.map((c) => ({ name: "chunk", attrs: c })) },
        { name: "script", text: script },
      ],
    });
  }
  for (const md5 of a.deleteFiles ?? []) children.push({ name: "file", attrs: { md5, action: "delete" } });
  return renderXml({ name: "jobrequest", attrs: { status: a.status }, children });
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
