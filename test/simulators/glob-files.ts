import fs from "node:fs/promises";
import path from "node:path";

/** Files matching a `dir/*.ext`-style glob (only `*` and `?` in the last part). */
export async function globFiles(pattern: string): Promise<string[]> {
  const dir = path.dirname(pattern);
  const re = new RegExp(
    `^${path
      .basename(pattern)
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => re.test(n)).map((n) => path.join(dir, n));
}
