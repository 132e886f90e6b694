import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { escapeXml, writeXml } from "./xml-writer.js";

describe("writeXml", () => {
  it("writes attributes in order, children, then text; self-closes an element with neither", () => {
    expect(
      writeXml({
        name: "job",
        attrs: { id: 3, name: "a" },
        children: [
          { name: "renderer", attrs: { md5: "f" } },
          { name: "chunks", children: [] },
          { name: "script", text: "x" },
        ],
      }),
    ).toBe('<job id="3" name="a"><renderer md5="f"/><chunks/><script>x</script></job>');
    expect(writeXml({ name: "empty", text: "" })).toBe("<empty/>");
  });

  it("escapes markup and replaces characters XML does not allow, so the answer stays well-formed", () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
    const hostile = 'shot\u0001\u0008\u001b\uffff "x" </job><job id="9">\n\ttab\r';
    const xml = writeXml({ name: "job", attrs: { name: hostile }, children: [{ name: "script", text: hostile }] });
    expect(XMLValidator.validate(xml)).toBe(true);
    for (const ch of ["\u0001", "\u0008", "\u001b", "\uffff"]) expect(xml).not.toContain(ch);
    expect(xml.match(/<job /g)).toHaveLength(1);
    expect(xml).toContain("\n\ttab\r");
  });
});
