import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  findFreePort,
  findOnPath,
  type LocalRedis,
  REDIS_SERVER_MISSING_MESSAGE,
  RedisServerMissingError,
  startLocalRedis,
} from "./local-redis.js";
import { createLogger } from "./logger.js";

const logger = createLogger("silent");
// CI installs redis-server (.ci/run), so there a missing binary is a failure, not a skip.
const haveRedisServer = findOnPath("redis-server") !== undefined || process.env.CI === "true";

describe("findOnPath", () => {
  it("finds an executable on the given PATH and nothing on an empty one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-path-"));
    try {
      expect(findOnPath("node")).toBeDefined();
      expect(findOnPath("node", dir)).toBeUndefined();
      const fake = path.join(dir, "fake-tool");
      fs.writeFileSync(fake, "#!/bin/sh\n", { mode: 0o644 });
      expect(findOnPath("fake-tool", dir)).toBeUndefined(); // not executable
      fs.chmodSync(fake, 0o755);
      expect(findOnPath("fake-tool", `${path.join(dir, "nope")}${path.delimiter}${dir}`)).toBe(fake);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("startLocalRedis without redis-server", () => {
  it("throws RedisServerMissingError with install instructions", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "bw-empty-path-"));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-data-"));
    try {
      const err = await startLocalRedis({ dataDir, logger, searchPath: empty }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisServerMissingError);
      expect((err as Error).message).toBe(
        [
          "redis-server was not found on PATH, and REDIS_URL is not set.",
          "Bellwether starts and manages a local Redis when REDIS_URL is unset; install one:",
          "  Debian/Ubuntu:  sudo apt-get install -y redis-server",
          "  macOS:          brew install redis",
          "Or point it at a Redis you run yourself:   REDIS_URL=redis://host:6379 npm start",
          "Or run everything in containers:           docker compose up",
        ].join("\n"),
      );
      expect(REDIS_SERVER_MISSING_MESSAGE).toBe((err as Error).message);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!haveRedisServer)("startLocalRedis with a real redis-server", () => {
  let dataDir: string;
  const started: LocalRedis[] = [];
  const clients: Redis[] = [];

  const client = (url: string) => {
    const c = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
    c.on("error", () => undefined); // failures surface through the awaited commands
    clients.push(c);
    return c;
  };

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-local-redis-"));
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await Promise.all(started.splice(0).map((r) => r.stop()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves on 127.0.0.1, persists to <dataDir>/redis/appendonlydir, and keeps data across a restart", async () => {
    const first = await startLocalRedis({ dataDir, logger });
    started.push(first);
    expect(first.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);

    const c1 = client(first.url);
    await c1.connect();
    expect(await c1.ping()).toBe("PONG");
    expect(await c1.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
    expect(await c1.config("GET", "save")).toEqual(["save", ""]);
    expect(await c1.config("GET", "bind")).toEqual(["bind", "127.0.0.1"]);
    expect(await c1.config("GET", "protected-mode")).toEqual(["protected-mode", "yes"]);
    await c1.set("bw:persisted", "frame-0042");
    c1.disconnect();

    await first.stop();
    await first.stop(); // idempotent
    started.length = 0;

    const aofDir = path.join(dataDir, "redis", "appendonlydir");
    expect(fs.existsSync(aofDir)).toBe(true);
    const aofText = fs
      .readdirSync(aofDir)
      .map((f) => fs.readFileSync(path.join(aofDir, f), "latin1"))
      .join("");
    expect(aofText).toContain("frame-0042");
    expect(fs.readdirSync(path.join(dataDir, "redis")).some((f) => f.endsWith(".rdb"))).toBe(false);

    const second = await startLocalRedis({ dataDir, logger });
    started.push(second);
    const c2 = client(second.url);
    await c2.connect();
    expect(await c2.get("bw:persisted")).toBe("frame-0042");
  });

  it("uses the given port, and stop() resolves after the process has exited", async () => {
    const port = await findFreePort();
    const r = await startLocalRedis({ dataDir, logger, port });
    started.push(r);
    expect(r.url).toBe(`redis://127.0.0.1:${port}`);
    await r.stop();
    const c = client(r.url);
    await expect(c.connect()).rejects.toThrow();
  });

  it("refuses to start a second redis-server on a data directory that one is still using", async () => {
    const first = await startLocalRedis({ dataDir, logger });
    started.push(first);
    const c1 = client(first.url);
    await c1.connect();
    await c1.set("bw:owner", "first");
    const pidfile = path.join(dataDir, "redis", "redis-server.pid");
    const pid = Number(fs.readFileSync(pidfile, "utf8"));
    expect(pid).toBeGreaterThan(0);

    await expect(startLocalRedis({ dataDir, logger })).rejects.toThrow(
      new RegExp(`another redis-server \\(pid ${pid}\\) is already using[\\s\\S]*kill ${pid}`),
    );
    expect(await c1.get("bw:owner")).toBe("first"); // untouched

    // Once it has stopped, the same directory starts again (and a stale pid file is no obstacle).
    await first.stop();
    fs.writeFileSync(pidfile, `${pid}\n`);
    const second = await startLocalRedis({ dataDir, logger });
    started.push(second);
    const c2 = client(second.url);
    await c2.connect();
    expect(await c2.get("bw:owner")).toBe("first");
  });

  it("shuts down a redis-server left behind by a dead gateway, losing nothing, and starts afresh", async () => {
    const dir = path.join(dataDir, "redis");
    fs.mkdirSync(dir, { recursive: true });
    const port = await findFreePort();
    // An orphan as a SIGKILLed gateway leaves it: our flags, our directory, an owner that is gone.
    const orphan = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--appendonly",
        "yes",
        "--dir",
        dir,
        "--save",
        "",
        "--pidfile",
        path.join(dir, "redis-server.pid"),
      ],
      { cwd: dir, stdio: "ignore", detached: true },
    );
    const orphanExited = new Promise((r) => orphan.once("exit", r));
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    fs.writeFileSync(path.join(dir, "gateway.owner"), JSON.stringify({ pid: Number(dead.stdout), port }));
    const c0 = client(`redis://127.0.0.1:${port}`);
    for (let i = 0; ; i++) {
      try {
        await c0.connect();
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await c0.set("bw:left-behind", "frame-7");
    await c0.set("bw:last-write", "x"); // no time for an everysec fsync: SHUTDOWN must flush it
    while (!fs.existsSync(path.join(dir, "redis-server.pid"))) await new Promise((r) => setTimeout(r, 20));

    const fresh = await startLocalRedis({ dataDir, logger });
    started.push(fresh);
    await orphanExited; // the orphan is gone, not just ignored
    const c1 = client(fresh.url);
    await c1.connect();
    expect(await c1.get("bw:left-behind")).toBe("frame-7");
    expect(await c1.get("bw:last-write")).toBe("x");
    const pid = Number(fs.readFileSync(path.join(dir, "redis-server.pid"), "utf8"));
    expect(pid).not.toBe(orphan.pid);
  });

  it("fails with redis-server's own output when it cannot start", async () => {
    const port = await findFreePort();
    const holder = await startLocalRedis({ dataDir, logger, port });
    started.push(holder);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "bw-local-redis-2-"));
    try {
      await expect(startLocalRedis({ dataDir: other, logger, port })).rejects.toThrow(
        /exited during start-up[\s\S]*last output of redis-server:[\s\S]*address already in use/i,
      );
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
