import { BlockList, isIP } from "node:net";

/** One `WORKER_ALLOWED_NETWORKS` entry: `10.0.0.0/8`, `fd00::/8`, or a single address. */
export function parseNetwork(entry: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | null {
  const [address = "", prefixText, ...rest] = entry.trim().split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return null;
  const bits = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits || (prefixText ?? "0").trim() === "") return null;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/** `::ffff:10.1.2.3` (an IPv4 client on a dual-stack socket) as `10.1.2.3`; others unchanged. */
export function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? (m[1] as string) : address;
}

/**
 * A list of networks (`WORKER_ALLOWED_NETWORKS`, `CONTROL_ALLOWED_NETWORKS`, `TRUSTED_PROXIES`).
 * An empty list allows every address (the config never passes one for workers: its default is the
 * private networks; control auth treats an empty list as none).
 */
export class AllowedNetworks {
  private readonly list = new BlockList();
  readonly open: boolean;

  constructor(entries: readonly string[]) {
    this.open = entries.length === 0;
    for (const entry of entries) {
      const net = parseNetwork(entry);
      if (!net) throw new Error(`"${entry}" is not a network (examples: 10.0.0.0/8, 192.168.1.7, fd00::/8)`);
      this.list.addSubnet(net.address, net.prefix, net.family);
    }
  }

  allows(address: string): boolean {
    if (this.open) return true;
    const plain = plainAddress(address);
    const version = isIP(plain);
    if (version === 0) return false;
    return this.list.check(plain, version === 4 ? "ipv4" : "ipv6");
  }
}
