/**
 * Which of a SheepIt session's held leases its requests (request_job, keepalive) renew. A frame
 * rendered and waiting for its background upload keeps its lease, for a while: one the client
 * gave up on (its upload's answer lost, an error) runs out in the end and goes back in line.
 */

/** How many lease lengths a SheepIt session's requests keep a frame's lease alive after its claim. */
export const KEPT_LEASES = 6;

/** A held lease a session's request still renews: claimed less than KEPT_LEASES lease lengths ago. */
export function stillKept(l: { created: string }, leaseMs: number, now = Date.now()): boolean {
  return now - Date.parse(l.created) < KEPT_LEASES * leaseMs;
}

/**
 * The leases to renew: those still kept, and with `newest` (a keepalive) the newest lease too,
 * the frame rendering now, however long it renders.
 */
export function leasesToRenew<L extends { created: string }>(
  leases: L[],
  leaseMs: number,
  opts: { newest?: boolean } = {},
  now = Date.now(),
): L[] {
  const newest = opts.newest
    ? leases.reduce<L | undefined>((a, l) => (!a || l.created > a.created ? l : a), undefined)
    : undefined;
  return leases.filter((l) => l === newest || stillKept(l, leaseMs, now));
}
