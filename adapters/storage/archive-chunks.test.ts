import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ChunkCutter, chunksOfFile } from "./archive-chunks.js";

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

describe("ChunkCutter", () => {
  const data = Buffer.from(Array.from({ length: 2500 }, (_, i) => (i * 31) % 251));

  it("cuts at the chunk size whatever the pieces it is fed, the last chunk shorter", () => {
    const whole = new ChunkCutter(1000);
    whole.update(data);
    const bits = new ChunkCutter(1000);
    for (let i = 0; i < data.length; i += 7) bits.update(data.subarray(i, i + 7));
    const expected = [
      { md5: md5(data.subarray(0, 1000)), offset: 0, size: 1000 },
      { md5: md5(data.subarray(1000, 2000)), offset: 1000, size: 1000 },
      { md5: md5(data.subarray(2000)), offset: 2000, size: 500 },
    ];
    expect(whole.finish()).toEqual(expected);
    expect(bits.finish()).toEqual(expected);
  });

  it("gives one chunk for a file no larger than the size, and exact multiples no empty tail", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bw-chunks-")), "a.zip");
    fs.writeFileSync(file, data);
    expect(await chunksOfFile(file, 4096)).toEqual([{ md5: md5(data), offset: 0, size: 2500 }]);
    expect((await chunksOfFile(file, 1250)).map((c) => c.size)).toEqual([1250, 1250]);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    expect(() => new ChunkCutter(0)).toThrow(RangeError);
  });
});
