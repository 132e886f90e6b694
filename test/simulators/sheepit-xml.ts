import { XMLParser } from "fast-xml-parser";

/** What the Java client throws on an answer it cannot read: the client ends. */
export class BadServerResponse extends Error {
  override name = "BadServerResponse";
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name) => ["request", "file", "target", "chunk"].includes(name),
});

/** Java's Integer.parseInt: throws on anything but a 32-bit decimal integer. */
export function javaInt(v: unknown, what: string): number {
  if (typeof v !== "string" || !/^[-+]?\d+$/.test(v))
    throw new BadServerResponse(`${what}: "${String(v)}" is not an int`);
  const n = Number(v);
  if (n < -(2 ** 31) || n > 2 ** 31 - 1) throw new BadServerResponse(`${what}: ${v} does not fit a Java int`);
  return n;
}

/** A required attribute of an XML element; its absence is a crash of the Java client. */
export function required(node: Record<string, unknown>, attr: string, where: string): string {
  const v = node[attr];
  if (typeof v !== "string") throw new BadServerResponse(`<${where}> lacks the required attribute ${attr}`);
  return v;
}

/** The root element of an XML answer, which must be `text/xml`. */
export async function xmlRoot(res: Response, what: string): Promise<Record<string, unknown>> {
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("text/xml")) throw new BadServerResponse(`${what}: content type "${type}" is not text/xml`);
  const text = await res.text();
  const doc = parser.parse(text) as Record<string, unknown>;
  const rootName = Object.keys(doc).find((k) => k !== "?xml");
  if (!rootName) throw new BadServerResponse(`${what}: empty XML document`);
  return doc[rootName] as Record<string, unknown>;
}
