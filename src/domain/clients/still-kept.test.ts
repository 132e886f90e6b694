import { describe, expect, it } from "vitest";
import { KEPT_LEASES, stillKept } from "./frame-requests.js";

describe("stillKept: how long a SheepIt session's requests renew a held lease", () => {
  const leaseMs = 45 * 60_000;
  const claimed = Date.parse("2026-12-02T10:00:00Z");
  const lease = { created: new Date(claimed).toISOString() };

  it("renews a lease claimed less than KEPT_LEASES lease lengths ago (a background upload)", () => {
    expect(stillKept(lease, leaseMs, claimed + leaseMs)).toBe(true);
    expect(stillKept(lease, leaseMs, claimed + KEPT_LEASES * leaseMs - 1)).toBe(true);
  });

  it("lets an older one run out (a frame the client gave up on)", () => {
    expect(stillKept(lease, leaseMs, claimed + KEPT_LEASES * leaseMs)).toBe(false);
    expect(stillKept(lease, 3000, claimed + 60_000)).toBe(false);
  });
});
