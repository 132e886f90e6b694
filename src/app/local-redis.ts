import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import readline from "node:readline";
import type { Logger } from "./logger.js";

/**
 * A private redis-server that Bellwether starts and stops itself when REDIS_URL is unset, so a
 * single machine needs no separately managed Redis. It listens on 127.0.0.1 only, keeps an
 * append-only file under `<dataDir>/redis`, and writes no RDB snapshots. It runs in its own
 * process group (a Ctrl-C for the gateway leaves it to stop() to end it) and writes a pid file, so
 * a second server is never started on the same append-only file.
 */

export type LocalRedis = {
  /** redis://127.0.0.1:<port> */
  url: string;
  /** Shuts the server down (SHUTDOWN, then SIGTERM, then SIGKILL); resolves once the process has exited. */
  stop(): Promise<void>;
};

export type StartLocalRedisOptions = {
  dataDir: string;
  logger: Logger;
  /** TCP port on 127.0.0.1; a free one is picked when unset. */
  port?: number;
  /** PATH to search for redis-server instead of process.env.PATH (tests use this). */
  searchPath?: string;
  /** How long to wait for the server to answer (INFO, with its own pid). Default 10 s. */
  readyTimeoutMs?: number;
  /** How long stop() waits after SHUTDOWN, and again after SIGTERM, before escalating. Default 5 s. */
  stopTimeoutMs?: number;
  /**
   * On Linux, start redis-server through `setpriv --pdeathsig SIGTERM` (when setpriv is on the
   * search path) so it shuts down (flushing its append-only file) when this process dies, even by
   * SIGKILL. Default true.
   */
  dieWithParent?: boolean;
};

export const REDIS_SERVER_MISSING_MESSAGE = [
  "redis-server was not found on PATH, and REDIS_URL is not set.",
  "Bellwether starts and manages a local Redis when REDIS_URL is unset; install one:",
  "  Debian/Ubuntu:  sudo apt-get install -y redis-server",
  "  macOS:          brew install redis",
  "Or point it at a Redis you run yourself:   REDIS_URL=redis://host:6379 npm start",
  "Or run everything in containers:           docker compose up",
].join("\n");

export class RedisServerMissingError extends Error {
  override name = "RedisServerMissingError";
  constructor() {
    super(REDIS_SERVER_MISSING_MESSAGE);
  }
}

/** redis-server was found but could not be started (its output is quoted in the message). */
export class RedisStartError extends Error {
  override name = "RedisStartError";
}

/** Absolute path of the executable `name` on `searchPath` (default: $PATH), or undefined. */
export function findOnPath(name: string, searchPath: string = process.env.PATH ?? ""): string | undefined {
  const exts =
    process.platform === "win32" ? ["", ...(process.env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";").filter(Boolean)] : [""];
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.resolve(dir, name + ext);
      try {
        if (!fs.statSync(candidate).isFile()) continue;
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (listen on 0, read the port, close). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : undefined;
      server.close(() => (port ? resolve(port) : reject(new Error("could not determine a free port"))));
    });
  });
}

const OUTPUT_LINES_KEPT = 20;
const PIDFILE = "redis-server.pid";

const OWNERFILE = "gateway.owner";

/** Written next to the pid file once redis-server is ready: which process started it, on which port. */
type Owner = { pid: number; port: number };

/**
 * Two redis-servers must never share one append-only file. A redis-server still running on this
 * directory (its pid file names a live process that, where /proc can tell, is a redis-server
 * working in this directory) either belongs to a gateway that is running (starting is refused
 * with a message saying what to do), or was left behind by one that died without stop() (killed
 * with SIGKILL, say): then it is shut down cleanly (SHUTDOWN, which flushes the append-only file,
 * so nothing is lost) and a fresh one is started on the same files. A stale pid file is removed.
 */
async function takeOverDir(dir: string, log: Logger, graceMs: number): Promise<void> {
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

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The fields of /proc/<pid>/stat after the command name: [state, ppid, ...]; undefined without /proc. */
async function procStat(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await fs.promises.readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

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

async function readOwner(dir: string): Promise<Owner | undefined> {
  try {
    const o = JSON.parse(await fs.promises.readFile(path.join(dir, OWNERFILE), "utf8")) as Partial<Owner>;
    return Number.isInteger(o.pid) && Number.isInteger(o.port) ? (o as Owner) : undefined;
  } catch {
    return undefined;
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

async function portOf(pid: number): Promise<number | undefined> {
  try {
    const args = (await fs.promises.readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    const i = args.indexOf("--port");
    const port = i >= 0 ? Number(args[i + 1]) : Number.NaN;
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
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

export async function startLocalRedis(opts: StartLocalRedisOptions): Promise<LocalRedis> {
  const binary = findOnPath("redis-server", opts.searchPath);
  if (!binary) throw new RedisServerMissingError();

  const dir = path.resolve(opts.dataDir, "redis");
  await fs.promises.mkdir(dir, { recursive: true });
  const log = opts.logger.child({ component: "redis-server" });
  await takeOverDir(dir, log, opts.stopTimeoutMs ?? 10_000);

  // A port picked by findFreePort can be taken before redis-server binds it; retry then.
  const attempts = opts.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await findFreePort());
    try {
      return await startOnce(binary, dir, port, log, opts);
    } catch (err) {
      if (attempt < attempts && err instanceof RedisStartError && /address already in use/i.test(err.message)) {
        log.debug({ port }, "port was taken before redis-server bound it; trying another");
        continue;
      }
      throw err;
    }
  }
}

async function startOnce(
  binary: string,
  dir: string,
  port: number,
  log: Logger,
  opts: StartLocalRedisOptions,
): Promise<LocalRedis> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--protected-mode",
    "yes",
    "--daemonize",
    "no",
    "--appendonly",
    "yes",
    "--dir",
    dir,
    "--save",
    "",
    "--pidfile",
    path.join(dir, PIDFILE),
    "--logfile",
    "",
  ];
  // detached: its own process group, so a Ctrl-C meant for the gateway does not stop Redis
  // under it; the gateway stops Redis itself, last, through stop().
  // setpriv --pdeathsig: redis-server gets SIGTERM (and flushes its append-only file) when this
  // process dies, even by SIGKILL; setpriv execs redis-server, so the pid stays the same.
  const setpriv =
    process.platform === "linux" && opts.dieWithParent !== false ? findOnPath("setpriv", opts.searchPath) : undefined;
  const child = setpriv
    ? spawn(setpriv, ["--pdeathsig", "SIGTERM", binary, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        cwd: dir,
        detached: true,
      })
    : spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], cwd: dir, detached: true });

  const recent: string[] = [];
  const remember = (line: string) => {
    recent.push(line);
    if (recent.length > OUTPUT_LINES_KEPT) recent.shift();
  };
  const stdout = child.stdout;
  const stderr = child.stderr;
  if (stdout) {
    readline.createInterface({ input: stdout }).on("line", (line) => {
      remember(line);
      log.debug(line);
    });
  }
  if (stderr) {
    readline.createInterface({ input: stderr }).on("line", (line) => {
      remember(line);
      log.warn(line);
    });
  }

  let stopping = false;
  let ready = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  // "close" comes after "exit" once stdout/stderr are drained: wait for it before quoting output.
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));

  // If this Node process exits without calling stop(), don't leave redis-server behind.
  // SIGTERM makes redis-server fsync the append-only file and exit.
  const onProcessExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  process.once("exit", onProcessExit);
  void exited.then(({ code, signal }) => {
    process.removeListener("exit", onProcessExit);
    if (!stopping && ready) {
      log.error({ code, signal, output: recent.slice(-5) }, "redis-server exited unexpectedly");
    }
  });

  const url = `redis://127.0.0.1:${port}`;
  const timeoutMs = opts.readyTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const describe = () => (recent.length ? `\nlast output of redis-server:\n  ${recent.join("\n  ")}` : "");

  while (!ready) {
    const outcome = await Promise.race([
      answersAs(port, child.pid, 500).then((ok) => (ok ? "ready" : "retry")),
      exited.then(() => "exited" as const),
      spawnError.then((e) => e),
    ]);
    if (outcome === "ready") {
      ready = true;
      break;
    }
    if (outcome instanceof Error) {
      throw new RedisStartError(`could not run ${binary}: ${outcome.message}`);
    }
    if (outcome === "exited") {
      const { code, signal } = await exited;
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1_000).unref())]);
      throw new RedisStartError(
        `redis-server (${binary}) exited during start-up (${signal ? `signal ${signal}` : `exit code ${code}`}) on port ${port}${describe()}`,
      );
    }
    if (Date.now() >= deadline) {
      child.kill("SIGKILL");
      await exited;
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1_000).unref())]);
      throw new RedisStartError(
        `redis-server (${binary}) did not answer on 127.0.0.1:${port} within ${timeoutMs} ms${describe()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  log.debug({ url, dir, pid: child.pid }, "local redis-server ready");
  const ownerFile = path.join(dir, OWNERFILE);
  await fs.promises.writeFile(ownerFile, `${JSON.stringify({ pid: process.pid, port } satisfies Owner)}\n`);

  let stopPromise: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopPromise ??= (async () => {
      stopping = true;
      await stopChild(child, exited, port, opts.stopTimeoutMs ?? 5_000, log);
      await fs.promises.rm(ownerFile, { force: true });
    })();
    return stopPromise;
  };

  return { url, stop };
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<unknown>,
  port: number,
  graceMs: number,
  log: Logger,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const waitExit = (ms: number) =>
    Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), ms).unref())]);

  // SHUTDOWN fsyncs the append-only file (and, with --save "", writes no RDB).
  await sendCommand(port, "SHUTDOWN", 2_000).catch(() => undefined);
  if (await waitExit(graceMs)) return;

  log.warn("redis-server did not shut down after SHUTDOWN; sending SIGTERM");
  child.kill("SIGTERM");
  if (await waitExit(graceMs)) return;

  log.warn("redis-server ignored SIGTERM; sending SIGKILL");
  child.kill("SIGKILL");
  await exited;
}

/**
 * True when the server on 127.0.0.1:port is `pid` and ready: INFO answers (not LOADING) with our
 * process id. Checking the pid keeps us from mistaking another server that holds the port for ours.
 */
async function answersAs(port: number, pid: number | undefined, timeoutMs: number): Promise<boolean> {
  try {
    const reply = await sendCommand(port, "INFO server", timeoutMs);
    if (!reply.startsWith("$")) return false;
    const m = /^process_id:(\d+)\r?$/m.exec(reply);
    return m !== null && Number(m[1]) === pid;
  } catch {
    return false;
  }
}

/**
 * Sends one inline command and resolves with the whole reply as text: one line for simple
 * replies, header plus payload for a bulk string ("" if the server closed first).
 */
function sendCommand(port: number, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let buffer = Buffer.alloc(0);
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(buffer.toString("utf8"));
    };
    const complete = (): boolean => {
      const eol = buffer.indexOf("\r\n");
      if (eol < 0) return false;
      if (buffer[0] !== 0x24 /* $ */) return true;
      const length = Number(buffer.subarray(1, eol).toString("latin1"));
      return length < 0 || buffer.length >= eol + 2 + length + 2;
    };
    const timer = setTimeout(() => done(new Error(`${command} timed out`)), timeoutMs);
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (complete()) done();
    });
    socket.once("error", (err) => done(err));
    socket.once("close", () => done());
  });
}
