import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { webDir } from "../../adapters/http/web-files.js";

/** The built page (npm run build makes it; built here when this checkout has not yet). */
export function ensureWebBuilt() {
  const dir = webDir();
  const built = fs.existsSync(path.join(dir, "index.html")) ? fs.statSync(path.join(dir, "index.html")).mtimeMs : 0;
  const src = path.resolve(dir, "../../web/src");
  const newest = Math.max(...fs.readdirSync(src).map((f) => fs.statSync(path.join(src, f)).mtimeMs));
  if (built >= newest) return;
  const vite = path.resolve(dir, "../../node_modules/vite/bin/vite.js");
  execFileSync(process.execPath, [vite, "build", "--config", path.resolve(dir, "../../web/vite.config.ts")], {
    stdio: "pipe",
  });
}
