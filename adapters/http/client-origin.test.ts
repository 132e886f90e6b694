import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { type ClientOrigin, clientOriginResolver } from "./client-origin.js";

/** Resolves the origin of one in-process request whose TCP peer is `peer`. */
async function originFor(
  opts: Parameters<typeof clientOriginResolver>[0],
  headers: Record<string, string>,
  peer = "203.0.113.9",
): Promise<ClientOrigin> {
  const resolve = clientOriginResolver(opts);
  const app = new Hono();
  let seen: ClientOrigin | undefined;
  app.get("/", (c) => {
    seen = resolve(c);
    return c.text("ok");
  });
  // getConnInfo reads the Node request's socket from the env; fake just that field.
  await app.request("http://ignored/", { headers }, { incoming: { socket: { remoteAddress: peer } } } as never);
  if (!seen) throw new Error("handler did not run");
  return seen;
}

const base = { fallbackUrl: "http://127.0.0.1:8080", trustedProxies: [] as string[] };

describe("client origin", () => {
  it("builds the base URL from the Host the client used when PUBLIC_URL is unset", async () => {
    const o = await originFor(base, { host: "farm.example.org:8080" });
    expect(o).toEqual({ address: "203.0.113.9", baseUrl: "http://farm.example.org:8080", fromRequest: true });
  });

  it("keeps PUBLIC_URL when it is set, whatever Host says", async () => {
    const o = await originFor({ ...base, publicUrl: "https://render.example.com/" }, { host: "evil.example" });
    expect(o.baseUrl).toBe("https://render.example.com");
  });

  it("falls back to the guess for a missing or malformed Host", async () => {
    expect((await originFor(base, { host: "a b/c" })).baseUrl).toBe("http://127.0.0.1:8080");
    expect((await originFor(base, { host: "x@evil.example" })).fromRequest).toBe(false);
  });

  it("ignores X-Forwarded-* from an untrusted peer", async () => {
    const o = await originFor(base, {
      host: "farm.lan:8080",
      "x-forwarded-for": "10.9.9.9",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "https",
    });
    expect(o).toEqual({ address: "203.0.113.9", baseUrl: "http://farm.lan:8080", fromRequest: true });
  });

  it("believes X-Forwarded-* from a trusted proxy, taking the nearest untrusted hop as the client", async () => {
    const o = await originFor(
      { ...base, trustedProxies: ["10.0.0.0/8"] },
      {
        host: "gateway:8080",
        "x-forwarded-for": "198.51.100.7, 10.0.0.3",
        "x-forwarded-host": "render.example.com",
        "x-forwarded-proto": "https",
      },
      "10.0.0.2",
    );
    expect(o).toEqual({ address: "198.51.100.7", baseUrl: "https://render.example.com", fromRequest: true });
  });

  it("does not let a client behind a trusted proxy spoof its address by a leading hop", async () => {
    const o = await originFor(
      { ...base, trustedProxies: ["10.0.0.2"] },
      { host: "g", "x-forwarded-for": "127.0.0.1, 198.51.100.7" },
      "10.0.0.2",
    );
    expect(o.address).toBe("198.51.100.7");
  });
});
