import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import type { Logger } from "../logger.js";
import { RedisStartError } from "./errors.js";
import { findOnPath } from "./find-on-path.js";
import { answersAs, sendCommand } from "./inline-command.js";
import type { LocalRedis, StartLocalRedisOptions } from "./options.js";
import { OWNERFILE, type Owner, PIDFILE } from "./owner-file.js";

const OUTPUT_LINES_KEPT = 20;

/**
 * Runs redis-server once on `port` (append-only in `dir`, loopback only, its own process group),
 * waits until it answers as itself, and answers its URL and stop().
 */
export async function startOnce(
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
