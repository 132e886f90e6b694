import type { NetworkInterfaceInfo } from "node:os";
import type { Config } from "./config.js";

/**
 * The URLs to give clients, for the start-up log: PUBLIC_URL when set; else, when the gateway
 * listens on every interface (HOST 0.0.0.0 or ::), one URL per non-internal interface address;
 * else HOST itself. `guessed` is true when PUBLIC_URL is unset: each client's URLs (SheepIt
 * validation URLs) are then built from the Host it used, and this list is only a guess.
 */
export function advertisedUrls(
  config: Pick<Config, "HOST" | "PORT" | "publicUrl" | "publicUrlSet">,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): { sheepit: string[]; flamenco: string[]; guessed: boolean } {
  let bases: string[];
  if (config.publicUrlSet) {
    bases = [config.publicUrl];
  } else if (config.HOST === "0.0.0.0" || config.HOST === "::") {
    const all = config.HOST === "::";
    bases = Object.values(interfaces)
      .flatMap((list) => list ?? [])
      .filter((i) => !i.internal && (all || i.family === "IPv4"))
      .filter((i) => !(i.family === "IPv6" && i.address.toLowerCase().startsWith("fe80:")))
      .map((i) => urlOf(i.address, config.PORT));
    if (bases.length === 0) bases = [config.publicUrl];
  } else {
    bases = [urlOf(config.HOST, config.PORT)];
  }
  bases = [...new Set(bases.map((b) => b.replace(/\/+$/, "")))];
  return { sheepit: bases.map((b) => `${b}/`), flamenco: bases, guessed: !config.publicUrlSet };
}

function urlOf(address: string, port: number): string {
  return `http://${address.includes(":") ? `[${address}]` : address}:${port}`;
}
