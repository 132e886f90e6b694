import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import { AllowedNetworks } from "../../src/domain/workers/networks.js";

/**
 * Who a request came from and which base URL it used, with `X-Forwarded-*` believed only when the
 * TCP peer is one of `TRUSTED_PROXIES`. Every edge that needs the caller's address (rate limits,
 * allowed networks) or an absolute URL for the caller (SheepIt validation URLs) reads it from here.
 */
export interface ClientOrigin {
  /** The client's address: the TCP peer's, or from a trusted proxy the nearest untrusted hop of X-Forwarded-For. "" when unknown. */
  address: string;
  /** The base URL this client reached the gateway at (`PUBLIC_URL` when set), no trailing slash. */
  baseUrl: string;
  /** True when `baseUrl` is `PUBLIC_URL` or came from a header the client sent (not guessed). */
  fromRequest: boolean;
}

export interface ClientOriginOptions {
  /** `PUBLIC_URL` when the operator set it. */
  publicUrl?: string;
  /** The guessed URL (`http://<HOST>:<PORT>`) for a request that names no host. */
  fallbackUrl: string;
  /** `TRUSTED_PROXIES` entries. */
  trustedProxies: readonly string[];
}

const HOST_RE = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** The peer address of the TCP connection; "" for in-process requests. */
export function peerAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "";
  } catch {
    return "";
  }
}

export function clientOriginResolver(opts: ClientOriginOptions) {
  const trusted = opts.trustedProxies.length > 0 ? new AllowedNetworks(opts.trustedProxies) : null;
  const isTrusted = (address: string) => trusted !== null && address !== "" && trusted.allows(address);
  const fixed = opts.publicUrl?.replace(/\/+$/, "");

  return (c: Context): ClientOrigin => {
    const peer = peerAddress(c);
    let address = peer;
    const viaProxy = isTrusted(peer);
    if (viaProxy) {
      const hops = (c.req.header("x-forwarded-for") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      // Walk from the nearest hop back: the first address that is not a trusted proxy is the client.
      for (let i = hops.length - 1; i >= 0; i--) {
        address = hops[i] as string;
        if (!isTrusted(address)) break;
      }
    }
    if (fixed) return { address, baseUrl: fixed, fromRequest: true };

    const forwardedHost = viaProxy ? firstValue(c.req.header("x-forwarded-host")) : undefined;
    const forwardedProto = viaProxy ? firstValue(c.req.header("x-forwarded-proto"))?.toLowerCase() : undefined;
    const host = forwardedHost ?? c.req.header("host");
    if (!host || !HOST_RE.test(host)) return { address, baseUrl: opts.fallbackUrl, fromRequest: false };
    const proto = forwardedProto === "https" || forwardedProto === "http" ? forwardedProto : requestProto(c);
    return { address, baseUrl: `${proto}://${host}`, fromRequest: true };
  };
}

function firstValue(header: string | undefined): string | undefined {
  const v = header?.split(",")[0]?.trim();
  return v ? v : undefined;
}

function requestProto(c: Context): "http" | "https" {
  try {
    return new URL(c.req.url).protocol === "https:" ? "https" : "http";
  } catch {
    return "http";
  }
}

/** Middleware: sets `clientOrigin` on the context for every later handler. */
export function clientOrigin(opts: ClientOriginOptions): MiddlewareHandler {
  const resolve = clientOriginResolver(opts);
  return async (c, next) => {
    c.set("clientOrigin" as never, resolve(c) as never);
    await next();
  };
}

/** The request's origin (set by the `clientOrigin` middleware; resolved from the peer alone when absent). */
export function originOf(c: Context): ClientOrigin {
  const set = c.get("clientOrigin" as never) as ClientOrigin | undefined;
  return set ?? { address: peerAddress(c), baseUrl: "", fromRequest: false };
}
