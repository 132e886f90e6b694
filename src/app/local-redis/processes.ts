import fs from "node:fs";

/** Whether process `pid` exists (also when it is another user's). */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The fields of /proc/<pid>/stat after the command name: [state, ppid, ...]; undefined without /proc. */
export async function procStat(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await fs.promises.readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** The `--port` redis-server `pid` was started with, from /proc; undefined when it cannot be told. */
export async function portOf(pid: number): Promise<number | undefined> {
  try {
    const args = (await fs.promises.readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    const i = args.indexOf("--port");
    const port = i >= 0 ? Number(args[i + 1]) : Number.NaN;
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}
