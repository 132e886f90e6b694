/** Points for an accepted frame: one per started minute of render time, at least one. */
export function pointsFor(renderSeconds: number): number {
  return Math.max(1, Math.ceil(renderSeconds / 60));
}
