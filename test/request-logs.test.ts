import fs from "node:fs";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/app/config.js";
import { controlTokensOf } from "../src/app/control.js";
import { createFarm, type Farm } from "../src/app/farm.js";
import { createLogger } from "../src/app/logger.js";
import { renderClientsOf } from "../src/app/render-clients.js";
import { createHttpApp } from "../src/app/server.js";
import { exampleJob } from "./support/farm.js";
import { createTestRedis, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "./support/redis.js";

const lines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
    done();
  },
});

const prefix = uniquePrefix("logs");
const redis = createTestRedis();
let farm: Farm;
let app: ReturnType<typeof createHttpApp>;
const SECRET = "s3cret-Password-that-must-not-leak";

beforeAll(async () => {
  const config = loadConfig({
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: prefix,
    STORAGE_ROOT: `/tmp/${prefix}`,
    LOG_LEVEL: "info",
  });
  farm = createFarm(config, redis, createLogger("info", sink));
  app = createHttpApp(farm);
  await renderClientsOf(farm).accounts.add("logger", SECRET);
});
afterAll(async () => {
  await farm.close();
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
  fs.rmSync(`/tmp/${prefix}`, { recursive: true, force: true });
});

const requestLine = (reqId: string) => lines.find((l) => l.msg === "request" && l.reqId === reqId);

describe("request logs", () => {
  it("log each request as one JSON line with request id, protocol, route, status and job", async () => {
    // An in-process request has no client address, so control needs a token; it is never logged.
    const { token } = await controlTokensOf(farm).add("logs");
    const refused = await app.request("/api/jobs", { headers: { "x-request-id": "req-refused-1" } });
    expect(refused.status).toBe(403);
    const res = await app.request("/api/jobs", {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-submit-1", authorization: `Bearer ${token}` },
      body: JSON.stringify(exampleJob(`/tmp/${prefix}`, { frames: "1-3" })),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("req-submit-1");
    const job = (await res.json()) as { id: string };
    expect(requestLine("req-submit-1")).toMatchObject({
      level: 30,
      method: "POST",
      path: "/api/jobs",
      protocol: "flamenco",
      status: 200,
      job: job.id,
    });
    expect(typeof requestLine("req-submit-1")?.ms).toBe("number");
    expect(requestLine("req-refused-1")).toMatchObject({ status: 403, path: "/api/jobs" });
    expect(JSON.stringify(lines)).not.toContain(token);
    expect(JSON.stringify(lines).toLowerCase()).not.toContain("bearer");
  });

  it("name the SheepIt session, and never log passwords", async () => {
    const form = new URLSearchParams({
      login: "logger",
      password: SECRET,
      version: "7.23353.0",
      os: "linux",
      bits: "64bit",
      cpu_family: "6",
      cpu_model: "85",
      cpu_model_name: "Xeon",
      cpu_cores: "8",
      ram: "16000000",
      ram_max: "8000000",
      hostname: "box",
    });
    const res = await app.request("/server/config.php", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-request-id": "req-login-1" },
      body: form.toString(),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('status="0"');
    const line = requestLine("req-login-1");
    expect(line).toMatchObject({ protocol: "sheepit", path: "/server/config.php", status: 200 });
    expect(typeof line?.session).toBe("string");
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  it("obey LOG_LEVEL", () => {
    const quiet = createLogger("warn", sink);
    const before = lines.length;
    quiet.info("hidden");
    quiet.warn("shown");
    expect(lines.slice(before).map((l) => l.msg)).toEqual(["shown"]);
  });
});
