import { describe, expect, it } from "vitest";
import { chargeOf } from "./error-types.js";

describe("chargeOf", () => {
  it("charges set-up errors to the session, stops to nobody, the rest to the frame", () => {
    for (const t of [5, 6, 7, 9, 10, 15, 16, 17, 18, 19, 27]) expect(chargeOf(t)).toBe("session");
    for (const t of [20, 22]) expect(chargeOf(t)).toBe("none");
    for (const t of [8, 12, 13, 14, 21, 23, 24, 26, 99]) expect(chargeOf(t)).toBe("frame");
  });
});
