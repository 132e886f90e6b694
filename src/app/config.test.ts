import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseBytes, parseDuration } from "./config.js";

describe("parseDuration / parseBytes", () => {
  it("read the units the README lists", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("10m")).toBe(600_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("1.5s")).toBe(1_500);
    expect(parseDuration("250")).toBe(250);
    expect(parseDuration("soon")).toBeUndefined();
    expect(parseBytes("512MB")).toBe(512 * 1024 ** 2);
    expect(parseBytes("4gb")).toBe(4 * 1024 ** 3);
    expect(parseBytes("1048576")).toBe(1_048_576);
    expect(parseBytes("lots")).toBeUndefined();
  });
});

describe("loadConfig", () => {
  it("fills defaults and derives the public URL and folders", () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8080);
    expect(c.publicUrl).toBe("http://127.0.0.1:8080");
    expect(c.storageRoot).toBe(path.resolve("./storage"));
    expect(c.renderersDir).toBe(path.resolve("./data/renderers"));
    expect(c.TASK_TIMEOUT).toBe(600_000);
    expect(c.MAINTENANCE).toBe(false);
    expect(loadConfig({ PUBLIC_URL: "https://farm.example/", PORT: "9000" }).publicUrl).toBe("https://farm.example");
    expect(loadConfig({ HOST: "::1", PORT: "81" }).publicUrl).toBe("http://[::1]:81");
    expect(loadConfig({ MAINTENANCE: "yes" }).MAINTENANCE).toBe(true);
    expect(c.SHEEPIT_CHUNK_SIZE).toBe(16 * 1024 ** 2);
    expect(loadConfig({ SHEEPIT_CHUNK_SIZE: "1KB" }).SHEEPIT_CHUNK_SIZE).toBe(1024);
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["LOG_LEVEL", "loud"],
    ["TASK_TIMEOUT", "soon"],
    ["UPLOAD_MAX", "big"],
    ["REDIS_PREFIX", "a b"],
    ["MAINTENANCE", "maybe"],
    ["CONTROL_ALLOWED_NETWORKS", "192.168.1.0/33"],
    ["WORKER_ALLOWED_NETWORKS", "lan"],
    ["JSON_BODY_MAX", "huge"],
    ["SHEEPIT_CHUNK_SIZE", "100"],
    ["SHEEPIT_CHUNK_SIZE", "2GB"],
  ])("stops on a bad %s with one line naming it", (name, value) => {
    try {
      loadConfig({ [name]: value });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(new RegExp(`^invalid ${name}=`));
      expect((err as Error).message).not.toContain("\n");
    }
  });

  it("guards farm control to loopback and worker registration to private networks by default", () => {
    const c = loadConfig({});
    expect(c.CONTROL_ALLOWED_NETWORKS).toEqual(["127.0.0.0/8", "::1"]);
    expect(c.WORKER_ALLOWED_NETWORKS).toEqual([
      "127.0.0.0/8",
      "::1",
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
      "fc00::/7",
      "fe80::/10",
    ]);
    expect(c.JSON_BODY_MAX).toBe(1024 ** 2);
    expect(loadConfig({ CONTROL_ALLOWED_NETWORKS: "192.168.1.0/24, ::1" }).CONTROL_ALLOWED_NETWORKS).toEqual([
      "192.168.1.0/24",
      "::1",
    ]);
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ PORT: "", REDIS_URL: "" }).PORT).toBe(8080);
    expect(loadConfig({ REDIS_URL: "" }).REDIS_URL).toBeUndefined();
  });
});
