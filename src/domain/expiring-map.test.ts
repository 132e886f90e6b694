import { describe, expect, it } from "vitest";
import { ExpiringMap } from "./expiring-map.js";

describe("ExpiringMap", () => {
  it("answers a value until its time, forgets the oldest past max, and deletes by value", () => {
    const m = new ExpiringMap<string>(2);
    m.set("a", "w1", 100);
    expect(m.get("a", 99)).toBe("w1");
    expect(m.get("a", 100)).toBeUndefined();
    m.set("a", "w1", 200);
    m.set("b", "w2", 200);
    m.set("a", "w1", 300); // set again: now the newest
    m.set("c", "w1", 200); // b, the oldest, goes
    expect([m.get("a", 0), m.get("b", 0), m.get("c", 0)]).toEqual(["w1", undefined, "w1"]);
    m.deleteWhere((v) => v === "w1");
    expect([m.get("a", 0), m.get("c", 0)]).toEqual([undefined, undefined]);
  });
});
