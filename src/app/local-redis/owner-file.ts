import fs from "node:fs";
import path from "node:path";

/** The pid file redis-server writes into its directory. */
export const PIDFILE = "redis-server.pid";

/** The file beside the pid file that names the gateway process which started the redis-server. */
export const OWNERFILE = "gateway.owner";

/** Written next to the pid file once redis-server is ready: which process started it, on which port. */
export type Owner = { pid: number; port: number };

/** The owner file of `dir`, or undefined when it is missing or not one. */
export async function readOwner(dir: string): Promise<Owner | undefined> {
  try {
    const o = JSON.parse(await fs.promises.readFile(path.join(dir, OWNERFILE), "utf8")) as Partial<Owner>;
    return Number.isInteger(o.pid) && Number.isInteger(o.port) ? (o as Owner) : undefined;
  } catch {
    return undefined;
  }
}
