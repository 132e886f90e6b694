import { describe, expect, it } from "vitest";
import { signFrameToken, verifyFrameToken } from "../../src/domain/clients/frame-token.js";
import { compareVersions, padFrame, pointsFor } from "../../src/domain/clients/render-clients.js";
import { parseRange } from "./app.js";
import { configXml, jobRequestXml, parseCache, parseSpeedtest, statusXml } from "./xml.js";

describe("SheepIt XML", () => {
  it("renders answers with a declaration, escaped attributes and the script as text", () => {
    expect(statusXml("jobvalidate", 301)).toBe('<?xml version="1.0" encoding="utf-8" ?>\n<jobvalidate status="301"/>');
    const cfg = configXml({
      status: 0,
      publickey: "",
      requests: [{ type: "logout", path: "/account.php?mode=logout&worker=1" }],
    });
    expect(cfg).toContain(
      '<config status="0" publickey=""><request type="logout" path="/account.php?mode=logout&amp;worker=1"/></config>',
    );
    const job = jobRequestXml({
      status: 0,
      job: {
        id: 21,
        use_gpu: 0,
        archive_md5: "0".repeat(32),
        path: "a b/scene.blend",
        frame: "0007",
        synchronous_upload: 0,
        validation_url: "http%3A%2F%2Fh%2Fv%3Fa%3D1",
        name: 'quote " and <tag>',
        password: "",
        extras: "",
        renderer: { md5: "f".repeat(32), commandline: ".e -b .c", update_method: "remainingtime" },
        script: "if a < b and c & d:\n    pass\n",
        chunks: [{ id: "c".repeat(32), md5: "c".repeat(32) }],
      },
      deleteFiles: ["a".repeat(32)],
    });
    expect(job).toContain('name="quote &quot; and &lt;tag&gt;"');
    expect(job).toContain("<script>if a &lt; b and c &amp; d:\n    pass\n</script>");
    expect(job).toContain(`<file md5="${"a".repeat(32)}" action="delete"/>`);
    expect(job).toContain(`<chunks><chunk id="${"c".repeat(32)}" md5="${"c".repeat(32)}"/></chunks>`);
  });

  it("parses <cache> and <speedtest> bodies and rejects malformed ones", () => {
    expect(parseCache("")).toEqual({ files: [] });
    expect(parseCache("<cache/>")).toEqual({ files: [] });
    expect(parseCache(`<cache><file md5="${"A".repeat(32)}"/></cache>`).files).toHaveLength(1);
    expect(() => parseCache("<cache><file md5='x'/></cache>")).toThrow(/md5/);
    expect(() => parseCache("<cache><file")).toThrow(/malformed/);
    expect(() => parseCache("<other/>")).toThrow(/root element/);
    expect(parseSpeedtest('<speedtest><result target="t" speed="5" ping="2"/></speedtest>').results).toEqual([
      { target: "t", speed: 5, ping: 2 },
    ]);
    expect(() => parseSpeedtest('<speedtest><result target="t" speed="fast"/></speedtest>')).toThrow(/speed/);
  });

  it("parses byte ranges", () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange("bytes=0-9", 100)).toEqual([0, 9]);
    expect(parseRange("bytes=90-", 100)).toEqual([90, 99]);
    expect(parseRange("bytes=-10", 100)).toEqual([90, 99]);
    expect(parseRange("bytes=50-500", 100)).toEqual([50, 99]);
    expect(parseRange("bytes=100-", 100)).toBe("unsatisfiable");
    expect(parseRange("bytes=9-3", 100)).toBe("unsatisfiable");
    expect(parseRange("items=1-2", 100)).toBeNull();
  });
});

describe("render-client rules", () => {
  it("pads frames as Blender does, compares versions, credits points", () => {
    expect([padFrame(7), padFrame(12345), padFrame(-3), padFrame(0)]).toEqual(["0007", "12345", "-003", "0000"]);
    expect(compareVersions("7.23353.0", "7.3")).toBe(1);
    expect(compareVersions("3.3.1762", "3.10")).toBe(-1);
    expect(compareVersions("6.0.0", "6")).toBe(0);
    expect([pointsFor(0), pointsFor(59), pointsFor(61), pointsFor(3600)]).toEqual([1, 1, 2, 60]);
  });

  it("signs validation tokens for one session, job, frame and lease", () => {
    const secret = Buffer.alloc(32, 9);
    const s = { sessionId: "s1", jobId: "j1", frame: 7, leaseId: "0b7c59f4-5d4b-4d0e-9c1e-2f6f3c0e8a11" };
    const token = signFrameToken(secret, s);
    expect(verifyFrameToken(secret, token, s)).toBe(s.leaseId);
    expect(verifyFrameToken(secret, token, { ...s, frame: 8 })).toBeNull();
    expect(verifyFrameToken(secret, token, { ...s, sessionId: "s2" })).toBeNull();
    expect(verifyFrameToken(Buffer.alloc(32, 1), token, s)).toBeNull();
    expect(verifyFrameToken(secret, `${s.leaseId}.`, s)).toBeNull();
    expect(verifyFrameToken(secret, "garbage", s)).toBeNull();
  });
  it("puts publickey on every <config> answer, errors included", () => {
    expect(statusXml("config", 102)).toContain('<config status="102" publickey=""/>');
    expect(statusXml("jobrequest", 200)).toContain('<jobrequest status="200"/>');
  });
});
