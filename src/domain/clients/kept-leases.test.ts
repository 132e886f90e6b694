import { describe, expect, it } from "vitest";
import { KEPT_LEASES, leasesToRenew, stillKept } from "./kept-leases.js";

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

describe("leasesToRenew", () => {
  const leaseMs = 3000;
  const now = Date.parse("2026-12-02T10:10:00Z");
  const at = (id: string, msAgo: number) => ({ id, created: new Date(now - msAgo).toISOString() });
  const leases = [at("abandoned", 60_000), at("rendering", 30_000), at("uploading", 1000)];

  it("renews only the leases still kept on a frame request", () => {
    expect(leasesToRenew(leases, leaseMs, {}, now).map((l) => l.id)).toEqual(["uploading"]);
  });

  it("renews the newest lease on a keepalive however old, and not an older one", () => {
    const rendering = [at("abandoned", 60_000), at("rendering", 30_000)];
    expect(leasesToRenew(rendering, leaseMs, { newest: true }, now).map((l) => l.id)).toEqual(["rendering"]);
    expect(leasesToRenew([], leaseMs, { newest: true }, now)).toEqual([]);
  });
});
