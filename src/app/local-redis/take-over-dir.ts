import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../logger.js";
import { RedisStartError } from "./errors.js";
import { answersAs, sendCommand } from "./inline-command.js";
import { OWNERFILE, type Owner, PIDFILE, readOwner } from "./owner-file.js";
import { alive, portOf, procStat } from "./processes.js";

/**
 * Two redis-servers must never share one append-only file. A redis-server still running on this
 * directory (its pid file names a live process that, where /proc can tell, is a redis-server
 * working in this directory) either belongs to a gateway that is running (starting is refused
 * with a message saying what to do), or was left behind by one that died without stop() (killed
 * with SIGKILL, say): then it is shut down cleanly (SHUTDOWN, which flushes the append-only file,
 * so nothing is lost) and a fresh one is started on the same files. A stale pid file is removed.
 */
export async function takeOverDir(dir: string, log: Logger, graceMs: number): Promise<void> {
  const pidfile = path.join(dir, PIDFILE);
  let pid: number;
  try {
    pid = Number.parseInt(await fs.promises.readFile(pidfile, "utf8"), 10);
  } catch {
    return;
  }
  const owner = await readOwner(dir);
  const running = await isOurRedis(pid, dir);
  if (!running) {
    await fs.promises.rm(pidfile, { force: true });
    await fs.promises.rm(path.join(dir, OWNERFILE), { force: true });
    return;
  }
  if (await ownerIsGone(pid, owner)) {
    log.warn(
      { pid },
      "a redis-server left behind by a gateway that died is still running on this data directory; shutting it down",
    );
    if (await shutDownOrphan(pid, owner?.port ?? (await portOf(pid)), graceMs)) {
      await fs.promises.rm(pidfile, { force: true });
      await fs.promises.rm(path.join(dir, OWNERFILE), { force: true });
      return;
    }
  }
  throw new RedisStartError(
    [
      `another redis-server (pid ${pid}) is already using ${dir}.`,
      "A gateway may be running on this DATA_DIR, or one that stopped abnormally left its Redis behind.",
      `Stop that process (kill ${pid}) and start again, or set REDIS_URL to a Redis to use instead.`,
    ].join("\n"),
  );
}

/** Whether `pid` is a redis-server (not a zombie) working in `dir`; true where /proc cannot tell. */
async function isOurRedis(pid: number, dir: string): Promise<boolean> {
  if (pid === process.pid || !alive(pid)) return false;
  try {
    const [stat, cwd, cmdline, ownDir] = await Promise.all([
      procStat(pid),
      fs.promises.realpath(`/proc/${pid}/cwd`),
      fs.promises.readFile(`/proc/${pid}/cmdline`, "utf8"),
      fs.promises.realpath(dir),
    ]);
    return stat?.[0] !== "Z" && cwd === ownDir && cmdline.includes("redis-server");
  } catch {
    // No /proc here (macOS) or not allowed to look: trust the pid file.
    return true;
  }
}

/**
 * True when the process that started redis-server `pid` has gone. Where /proc tells the server's
 * parent: its parent is no longer the owner (an orphan is re-parented), or, with no owner file,
 * its parent is init or dead. Elsewhere: the owner named in the owner file is not alive.
 */
async function ownerIsGone(pid: number, owner: Owner | undefined): Promise<boolean> {
  const stat = await procStat(pid);
  if (stat) {
    const ppid = Number(stat[1]);
    if (owner) return ppid !== owner.pid;
    return ppid === 1 || !alive(ppid);
  }
  return owner !== undefined && !alive(owner.pid);
}

/**
 * Ends an orphaned redis-server gracefully: SHUTDOWN on its port when the server there is that
 * process, else SIGTERM (on which redis-server also flushes the append-only file). Never SIGKILL:
 * false if it is still running after `graceMs`.
 */
async function shutDownOrphan(pid: number, port: number | undefined, graceMs: number): Promise<boolean> {
  if (port !== undefined && (await answersAs(port, pid, 2_000))) {
    await sendCommand(port, "SHUTDOWN", 2_000).catch(() => undefined);
  } else {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone already
    }
  }
  const deadline = Date.now() + graceMs;
  for (;;) {
    const stat = await procStat(pid);
    if (!alive(pid) || stat?.[0] === "Z") return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
