import fs from "node:fs";
import path from "node:path";
import { BlobReader, configure, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { BadServerResponse } from "./sheepit-xml.js";

configure({ useWebWorkers: false });

/** Unpacks `zip` into `dir` once (a `.unpacked` mark); an entry that leaves its folder is refused. */
export async function unzip(zip: string, dir: string, password: string): Promise<void> {
  if (fs.existsSync(path.join(dir, ".unpacked"))) return;
  fs.mkdirSync(dir, { recursive: true });
  const reader = new ZipReader(new BlobReader(await fs.openAsBlob(zip)));
  for (const e of await reader.getEntries()) {
    const target = path.resolve(dir, e.filename);
    if (!target.startsWith(path.resolve(dir) + path.sep))
      throw new BadServerResponse(`zip entry ${e.filename} leaves its folder`);
    if (e.directory) {
      fs.mkdirSync(target, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const data = await e.getData?.(new Uint8ArrayWriter(), e.encrypted ? { password } : {});
    fs.writeFileSync(target, data ?? new Uint8Array());
  }
  await reader.close();
  fs.writeFileSync(path.join(dir, ".unpacked"), "");
}
