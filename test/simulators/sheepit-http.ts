import { Agent } from "undici";
import type { ClientOptions } from "./sheepit-client-options.js";

/** The client's HTTP as the Java client's: its cookie jar, user agent and headers; optionally every host resolved to one address. */
export class SheepItHttp {
  readonly cookies = new Map<string, string>();
  private readonly dispatcher: Agent | undefined;

  constructor(private readonly o: ClientOptions) {
    const to = o.resolveTo;
    if (to) {
      const family = to.includes(":") ? 6 : 4;
      this.dispatcher = new Agent({
        connect: {
          lookup: (_host, opts, cb) =>
            (opts as { all?: boolean }).all
              ? (cb as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
                  { address: to, family },
                ])
              : cb(null, to, family),
        },
      });
    }
  }

  async send(url: string, init: RequestInit = {}, what = url): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(this.o.headers ?? {})) headers.set(k, v);
    headers.set("User-Agent", "Java/11.0.20");
    headers.set("Accept-Encoding", "gzip");
    if (this.cookies.size > 0) headers.set("Cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const started = performance.now();
    const res = await fetch(url, {
      ...init,
      headers,
      redirect: "follow",
      signal: AbortSignal.timeout(60_000),
      ...(this.dispatcher ? ({ dispatcher: this.dispatcher } as object) : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair?.indexOf("=") ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    this.o.onExchange?.(what, performance.now() - started);
    return res;
  }
}
