import { mkdirSync, realpathSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { invalid } from "../../src/domain/errors.js";
import type { FarmStorage } from "../../src/domain/storage.js";

/** The storage root on the local (or mounted) file system. */
export class StorageRoot implements FarmStorage {
  readonly root: string;

  constructor(root: string) {
    mkdirSync(root, { recursive: true });
    this.root = realpathSync(root);
  }

  async confine(p: string, field: string): Promise<string> {
    if (typeof p !== "string" || p.trim() === "" || p.includes("\0")) {
      throw invalid(field, `${field} must be a path inside the farm storage`);
    }
    const absolute = path.resolve(this.root, p);
    const real = await realpathOfExistingPrefix(absolute);
    if (!isInside(this.root, real)) {
      throw invalid(field, `${field} "${p}" lies outside the farm storage (${this.root})`);
    }
    return absolute;
  }

  async real(p: string, field: string): Promise<string> {
    const real = await realpathOfExistingPrefix(path.resolve(this.root, p));
    if (!isInside(this.root, real)) {
      throw invalid(field, `${field} "${p}" leads outside the farm storage (${this.root}) through a symbolic link`);
    }
    return real;
  }
}

export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** realpath of the longest existing prefix of `p`, with the rest appended. */
export async function realpathOfExistingPrefix(p: string): Promise<string> {
  let head = p;
  const tail: string[] = [];
  for (;;) {
    try {
      const real = await fs.realpath(head);
      return path.join(real, ...tail.reverse());
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return p;
      tail.push(path.basename(head));
      head = parent;
    }
  }
}
