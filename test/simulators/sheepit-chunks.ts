import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * How a 2024 SheepIt client (sheepit-protocol-2024.md) gets a job's project: every chunk of the
 * `<chunks>` list through `download-chunk?chunk=<id>`, several at once, each checked against its
 * md5 and kept by md5 in the client's cache (a chunk shared by two jobs is downloaded once), then
 * the chunks concatenated in the order listed into the project zip.
 */

export class ChunkMismatch extends Error {
  override name = "ChunkMismatch";
}

export interface ChunkRef {
  id: string;
  md5: string;
}

/**
 * Streams a response body to `dest` (through a `.part` file) while hashing it; the file is kept
 * only when its md5 is `md5` (lowercase, compared case-sensitively). Answers the md5 it got.
 */
export async function saveIfMd5(body: ReadableStream<Uint8Array>, md5: string, dest: string): Promise<string> {
  const tmp = `${dest}.${process.pid}.${Math.random().toString(36).slice(2)}.part`;
  const hash = createHash("md5");
  const out = fs.createWriteStream(tmp);
  for await (const piece of body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(piece);
    if (!out.write(piece)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const got = hash.digest("hex");
  if (got === md5) fs.renameSync(tmp, dest);
  else fs.rmSync(tmp, { force: true });
  return got;
}

/** Downloads one chunk to `dest`, checking its md5; throws on HTTP errors or a wrong md5. */
export async function downloadChunk(res: Response, md5: string, dest: string): Promise<void> {
  if (res.status !== 200 || !res.body) throw new ChunkMismatch(`chunk ${md5}: HTTP ${res.status}`);
  const got = await saveIfMd5(res.body, md5, dest);
  if (got !== md5) throw new ChunkMismatch(`chunk: md5 ${got} is not ${md5}`);
}

/**
 * Makes sure every chunk is in `cacheDir` (`fetchChunk` is called only for missing ones, up to
 * `parallel` at once), then writes their concatenation to `zip`. Answers the md5s fetched and the
 * zip's md5.
 */
export async function assembleChunks(
  chunks: ChunkRef[],
  cacheDir: string,
  zip: string,
  fetchChunk: (c: ChunkRef, dest: string) => Promise<void>,
  parallel = 4,
): Promise<{ fetched: string[]; md5: string }> {
  fs.mkdirSync(cacheDir, { recursive: true });
  const missing = [...new Map(chunks.map((c) => [c.md5, c])).values()].filter(
    (c) => !fs.existsSync(path.join(cacheDir, c.md5)),
  );
  const fetched: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < missing.length) {
      const c = missing[next++] as ChunkRef;
      await fetchChunk(c, path.join(cacheDir, c.md5));
      fetched.push(c.md5);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, missing.length) }, lane));
  const hash = createHash("md5");
  const tmp = `${zip}.part`;
  const out = fs.createWriteStream(tmp);
  for (const c of chunks) {
    for await (const piece of fs.createReadStream(path.join(cacheDir, c.md5))) {
      hash.update(piece as Buffer);
      if (!out.write(piece)) await new Promise<void>((r) => out.once("drain", () => r()));
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  fs.renameSync(tmp, zip);
  return { fetched, md5: hash.digest("hex") };
}

/** The name a 2024 client gives a project: a hash of its chunk list (it does not read `archive_md5`). */
export function projectName(chunks: ChunkRef[]): string {
  return createHash("md5")
    .update(chunks.map((c) => c.md5).join(","))
    .digest("hex");
}
