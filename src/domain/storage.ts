/**
 * The farm's shared storage as the domain sees it (adapters/storage/storage-root.ts). Paths that
 * come from requests are confined to the configured root.
 */
export interface FarmStorage {
  /** The absolute storage root (symbolic links resolved). */
  readonly root: string;
  /**
   * Resolves `p` (absolute, or relative to the root) against `..` and symbolic links of the parts
   * that exist, and returns the normalised absolute path when it lies inside the root. Throws an
   * `invalid` FarmError naming `field` otherwise. The file itself need not exist yet.
   */
  confine(p: string, field: string): Promise<string>;
  /**
   * `p` with every symbolic link of its existing part resolved (the rest appended), when that lies
   * inside the root; throws an `invalid` FarmError naming `field` otherwise.
   */
  real(p: string, field: string): Promise<string>;
}
