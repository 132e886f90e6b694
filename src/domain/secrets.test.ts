import { describe, expect, it } from "vitest";
import { dummyHash, hashSecret, verifySecret } from "./secrets.js";

describe("secrets", () => {
  it("hash with a salt and verify only the right secret", async () => {
    const a = await hashSecret("correct horse");
    const b = await hashSecret("correct horse");
    expect(a).not.toBe(b);
    expect(a).not.toContain("correct horse");
    expect(await verifySecret("correct horse", a)).toBe(true);
    expect(await verifySecret("correct horsf", a)).toBe(false);
    expect(await verifySecret("", a)).toBe(false);
  });

  it("refuse malformed stored hashes and match nothing with the dummy", async () => {
    expect(await verifySecret("x", "")).toBe(false);
    expect(await verifySecret("x", "scrypt$1$2$3$bad")).toBe(false);
    expect(await verifySecret("x", "scrypt$99999999999$8$1$AAAA$AAAA")).toBe(false);
    expect(await verifySecret("anything", await dummyHash())).toBe(false);
  });
});
