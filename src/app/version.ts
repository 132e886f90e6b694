import { readFileSync } from "node:fs";

/** The gateway's version, from package.json. */
export const version: string = (() => {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      return JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")).version as string;
    } catch {
      // try the next location (source tree or dist/)
    }
  }
  return "0.0.0";
})();
