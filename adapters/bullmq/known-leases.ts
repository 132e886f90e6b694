import type { Lease } from "../../src/domain/scheduling/capabilities.js";

/**
 * Leases this process claimed, remembered for what never changes about a lease (its id, job,
 * session, phase, frames and indices), so completing one needs no read of it first: the completion
 * script checks, atomically, that the lease is still active and the session's (what the read was
 * for). Bounded: the oldest are forgotten first, and a lease not known here is read.
 */
export class KnownLeases {
  private readonly leases = new Map<string, Lease>();

  constructor(private readonly max = 10_000) {}

  remember(lease: Lease): void {
    this.leases.set(lease.id, lease);
    if (this.leases.size > this.max) {
      const oldest = this.leases.keys().next().value;
      if (oldest !== undefined) this.leases.delete(oldest);
    }
  }

  /** The lease as it was claimed, when this process claimed it for `sessionId`. */
  claimed(leaseId: string, sessionId: string): Lease | null {
    const lease = this.leases.get(leaseId);
    return lease && lease.sessionId === sessionId ? lease : null;
  }

  forget(leaseId: string): void {
    this.leases.delete(leaseId);
  }
}
