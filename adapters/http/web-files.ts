import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

/**
 * Where the built dashboard is: `dist/web/` beside the compiled gateway (`npm run build` makes
 * it), whether this file runs compiled (dist/adapters/http/) or from source (adapters/http/).
 */
export function webDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const compiled = path.basename(path.resolve(here, "../..")) === "dist";
  return compiled ? path.resolve(here, "../../web") : path.resolve(here, "../../dist/web");
}

/**
 * The web dashboard as static files: the page at `/`, its bundle under `/assets/`. The page holds
 * no farm data: it reads everything through the guarded API, with a control network or a token.
 */
export function webRoutes(dir = webDir()) {
  const app = new Hono();
  const send = async (file: string, immutable: boolean) => {
    const full = path.resolve(dir, file);
    if (!full.startsWith(dir + path.sep)) return null;
    const body = await fs.readFile(full).catch(() => null);
    if (!body) return null;
    return new Response(new Uint8Array(body), {
      headers: {
        "Content-Type": TYPES[path.extname(full)] ?? "application/octet-stream",
        "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
        "X-Content-Type-Options": "nosniff",
      },
    });
  };
  const page = async () =>
    (await send("index.html", false)) ??
    new Response("The dashboard is not built: run `npm run build` (npm start does).\n", {
      status: 404,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  app.get("/", page);
  app.get("/index.html", page);
  app.get("/assets/:file", async (c) => {
    const name = c.req.param("file");
    if (!/^[\w.-]+$/.test(name)) return c.notFound();
    return (await send(path.join("assets", name), true)) ?? c.notFound();
  });
  return app;
}
