import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controlTokensOf } from "../src/app/control.js";
import { type CliContext, parseArgs } from "../src/cli/command.js";
import { tokenGroup } from "../src/cli/token.js";
import { exampleJob, waitFor } from "./support/farm.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

// The gateway allows control only from a network the test client (127.0.0.1) is not in: every
// request of this file comes from a foreign address unless it carries a token.
const FOREIGN = { CONTROL_ALLOWED_NETWORKS: "192.0.2.0/24" };

let gw: TestGateway;
let twin: TestGateway;
let jobId: string;
let taskId: string;

async function call(base: string, method: string, route: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(base + route, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, type: res.headers.get("content-type") ?? "", text, json };
}

/** Every guarded route of the farm, with a body where it takes one. */
const guarded = (): Array<[string, string, unknown?]> => [
  ["POST", "/api/jobs", exampleJob(gw.storageRoot, { frames: "1-2" })],
  ["GET", "/api/jobs"],
  ["GET", `/api/jobs/${jobId}`],
  ["POST", `/api/jobs/${jobId}/setstatus`, { status: "cancel-requested", reason: "attacker" }],
  ["POST", `/api/jobs/${jobId}/setpriority`, { priority: 1 }],
  ["GET", `/api/jobs/${jobId}/tasks`],
  ["GET", `/api/tasks/${taskId}`],
  ["GET", `/api/tasks/${taskId}/log`],
  ["GET", "/api/worker-mgt/workers"],
  ["POST", "/api/worker-mgt/workers/6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab/setstatus", { status: "offline" }],
  ["DELETE", `/api/jobs/${jobId}`],
  ["GET", "/metrics"],
  ["GET", "/api/no-such-route"],
];

async function runCli(cmd: string, ...argv: string[]): Promise<string[]> {
  const out: string[] = [];
  const ctx: CliContext = { farm: async () => gw.farm, out: (l) => out.push(l) };
  await tokenGroup.commands[cmd]?.run(ctx, parseArgs(argv));
  return out;
}

beforeAll(async () => {
  gw = await startTestGateway("ctl-auth", FOREIGN);
  twin = await gw.twinGateway();
  const job = await gw.farm.jobs.submit(exampleJob(gw.storageRoot, { frames: "1-3" }, 40));
  jobId = job.id;
  const tasks = await gw.farm.jobs.tasks(jobId);
  taskId = tasks[0]?.id ?? "6a3c1e0e-5a4b-4c1d-9e2f-0123456789ab";
});
afterAll(async () => {
  await twin?.close();
  await gw?.close();
});

describe("farm control from a foreign address", () => {
  it("answers 403 Error JSON on every guarded route, on both gateways, and changes nothing", async () => {
    for (const base of [gw.url, twin.url]) {
      for (const [method, route, body] of guarded()) {
        const a = await call(base, method, route, {}, body);
        expect(a.status, `${method} ${route}`).toBe(403);
        expect(a.type).toContain("application/json");
        expect(a.json).toMatchObject({ code: 403 });
        const message = (a.json as { message: string }).message;
        expect(message).toContain("CONTROL_ALLOWED_NETWORKS");
        expect(message).toContain("bellwether token add <name>");
      }
    }
    const job = await gw.farm.jobs.get(jobId);
    expect(job.priority).toBe(40);
    expect(job.status).not.toMatch(/cancel/);
    // Only the job made in beforeAll exists: the refused submissions made nothing.
    const listed = await call(gw.url, "GET", "/api/jobs", {
      Authorization: `Bearer ${(await controlTokensOf(gw.farm).add("lister")).token}`,
    });
    expect((listed.json as { jobs: unknown[] }).jobs).toHaveLength(1);
  });

  it("keeps the open routes open", async () => {
    for (const route of ["/api/version", "/api/jobs/types", "/api/openapi.json", "/api/docs", "/healthz", "/readyz"]) {
      expect((await call(gw.url, "GET", route)).status, route).toBe(200);
    }
    // Render clients are not farm control: SheepIt answers XML, the worker API its own auth.
    const config = await call(gw.url, "POST", "/server/config.php");
    expect(config.type).toContain("text/xml");
    expect((await call(gw.url, "GET", "/api/worker/state")).status).toBe(401);
  });

  it("does not believe X-Forwarded-For from an untrusted peer", async () => {
    const a = await call(gw.url, "GET", "/api/jobs", { "X-Forwarded-For": "192.0.2.7" });
    expect(a.status).toBe(403);
    expect((a.json as { message: string }).message).toContain("127.0.0.1");
  });

  it("refuses a malformed, unknown or Basic credential", async () => {
    for (const auth of ["Bearer nope", `Bearer bwc_${"A".repeat(43)}`, "Basic dXNlcjpwYXNz", "Bearer"]) {
      const a = await call(gw.url, "GET", "/api/jobs", { Authorization: auth });
      expect(a.status, auth).toBe(403);
      expect((a.json as { message: string }).message).toContain("not a valid control token");
    }
  });
});

describe("control tokens", () => {
  it("let a token made with the CLI through on both gateways until it is revoked", async () => {
    const [token] = await runCli("add", "script");
    const auth = { Authorization: `Bearer ${token}` };
    for (const base of [gw.url, twin.url]) {
      expect((await call(base, "GET", "/api/jobs", auth)).status).toBe(200);
      expect((await call(base, "GET", `/api/jobs/${jobId}`, auth)).status).toBe(200);
      expect((await call(base, "GET", "/metrics", auth)).status).toBe(200);
      expect((await call(base, "GET", `/api/jobs/${jobId}/tasks`, auth)).status).toBe(200);
    }
    expect((await call(twin.url, "POST", `/api/jobs/${jobId}/setpriority`, auth, { priority: 70 })).status).toBe(204);
    expect((await gw.farm.jobs.get(jobId)).priority).toBe(70);
    const made = await call(gw.url, "POST", "/api/jobs", auth, exampleJob(gw.storageRoot, { frames: "1-2" }));
    expect(made.status).toBe(200);
    expect((await runCli("list")).join("\n")).toMatch(/script\s+\S+\s+\d{4}-/);

    expect(await runCli("revoke", "script")).toEqual(["revoked script"]);
    // Every gateway refuses it within its cache time (a few seconds).
    for (const base of [gw.url, twin.url]) {
      await waitFor(async () => (await call(base, "GET", "/api/jobs", auth)).status === 403, 15_000, 200);
    }
    expect((await call(twin.url, "DELETE", `/api/jobs/${(made.json as { id: string }).id}`, auth)).status).toBe(403);
  });

  it("is checked by its hash alone: the service finds the name, a changed character fails", async () => {
    const tokens = controlTokensOf(twin.farm);
    const { token } = await tokens.add("hash-check");
    expect(await tokens.verify(token)).toBe("hash-check");
    const flipped = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
    expect(await tokens.verify(flipped)).toBeNull();
    await tokens.revoke("hash-check");
  });
});

describe("behind a trusted proxy", () => {
  it("uses the forwarded address: allowed networks get in, others do not", async () => {
    const proxied = await startTestGateway("ctl-proxy", { ...FOREIGN, TRUSTED_PROXIES: "127.0.0.1" });
    try {
      expect((await call(proxied.url, "GET", "/api/jobs", { "X-Forwarded-For": "192.0.2.7" })).status).toBe(200);
      expect((await call(proxied.url, "GET", "/api/jobs", { "X-Forwarded-For": "203.0.113.5" })).status).toBe(403);
      // The nearest untrusted hop counts, not what the client wrote first.
      const spoofed = await call(proxied.url, "GET", "/api/jobs", { "X-Forwarded-For": "192.0.2.7, 203.0.113.5" });
      expect(spoofed.status).toBe(403);
    } finally {
      await proxied.close();
    }
  });
});

describe("the default configuration", () => {
  let local: TestGateway;
  beforeAll(async () => {
    local = await startTestGateway("ctl-default", { TRUSTED_PROXIES: "127.0.0.1" });
  });
  afterAll(async () => {
    await local.close();
  });

  it("lets the same machine submit without a token (the quick start) and nobody else", async () => {
    const job = exampleJob(local.storageRoot, { frames: "1-2" });
    expect((await call(local.url, "POST", "/api/jobs", {}, job)).status).toBe(200);
    expect((await call(local.url, "GET", "/metrics")).status).toBe(200);
    const far = { "X-Forwarded-For": "203.0.113.5" };
    expect((await call(local.url, "POST", "/api/jobs", far, job)).status).toBe(403);
    expect((await call(local.url, "GET", "/metrics", far)).status).toBe(403);
  });

  it("lets workers register from private networks only", async () => {
    const reg = (from: string) =>
      call(
        local.url,
        "POST",
        "/api/worker/register-worker",
        { "X-Forwarded-For": from },
        { secret: "s3cret", platform: "linux", supported_task_types: ["blender"], nickname: `w-${from}` },
      );
    const refused = await reg("203.0.113.5");
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("203.0.113.5");
    for (const from of ["10.1.2.3", "192.168.1.20", "172.16.5.4", "fd12::7", "127.0.0.1"]) {
      expect((await reg(from)).status, from).toBe(200);
    }
    expect((await local.farm.workers.list()).map((w) => w.nickname)).not.toContain("w-203.0.113.5");
  });
});

describe("body caps", () => {
  // A token gets past the guard, so the cap is what answers.
  beforeAll(async () => {
    const { token } = await controlTokensOf(gw.farm).add("uploader");
    withToken.Authorization = `Bearer ${token}`;
  });

  it("refuses a declared body over JSON_BODY_MAX with 413 before reading it", async () => {
    const a = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${gw.url}/api/jobs`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": String(150 * 1024 * 1024),
          ...withToken,
        },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.write("{"); // the rest never comes: the answer must not wait for it
    });
    expect(a.status).toBe(413);
    expect(JSON.parse(a.body)).toMatchObject({ code: 413 });
  });

  it("cuts off a 150 MB chunked body at the cap: 413 before the upload ends, no memory jump", async () => {
    const total = 150 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const result = await new Promise<{ status: number; sent: number; body: string }>((resolve) => {
      let sent = 0;
      let answered = false;
      const req = http.request(`${gw.url}/api/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked", ...withToken },
      });
      req.on("response", (res) => {
        answered = true;
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, sent, body });
          req.destroy();
        });
      });
      req.on("error", () => {
        // The gateway closes the connection after its answer; the rest of the upload fails here.
      });
      const pump = () => {
        while (!answered && sent < total) {
          sent += chunk.length;
          peak = Math.max(peak, process.memoryUsage().rss);
          if (!req.write(chunk)) {
            req.once("drain", pump);
            return;
          }
        }
        if (!answered) req.end();
      };
      pump();
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ code: 413 });
    expect(result.sent).toBeLessThan(total);
    expect(peak - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it("caps SheepIt form bodies with an XML 413", async () => {
    const res = await fetch(`${gw.url}/server/config.php`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `login=a&password=${"x".repeat(100 * 1024)}`,
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toContain("text/xml");
    expect(await res.text()).toMatch(/<config status="104"/);
  });

  it("cuts a chunked SheepIt body off at its cap with an XML 413", async () => {
    const big = "x".repeat(200 * 1024);
    const a = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = http.request(`${gw.url}/server/speedtest.php`, {
        method: "POST",
        headers: { "content-type": "application/xml", "transfer-encoding": "chunked" },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
      });
      req.on("error", reject);
      req.write(`<speedtest>${big}`);
    });
    expect(a.status).toBe(413);
    expect(a.type).toContain("text/xml");
    expect(a.body).toMatch(/<speedtest status="300"/);
  });
});

describe("SheepIt paths", () => {
  it("answer text/xml for wrong methods and unknown paths", async () => {
    for (const [method, route, status] of [
      ["DELETE", "/server/config.php", 405],
      ["PUT", "/server/request_job.php", 405],
      ["GET", "/server/speedtest.php", 405],
      ["GET", "/server/nope.php", 404],
      ["POST", "/server/", 404],
      ["GET", "/account.php?mode=nothing", 404],
      ["PATCH", "/account.php", 405],
      ["GET", "/server/archive.php?type=job&job=1", 404],
    ] as const) {
      const a = await call(gw.url, method, route);
      expect(a.status, `${method} ${route}`).toBe(status);
      expect(a.type, `${method} ${route}`).toContain("text/xml");
      expect(a.text).toMatch(/^<\?xml/);
    }
  });
});

/** Set by the body caps' beforeAll. */
const withToken: Record<string, string> = {};

describe("aborted requests", () => {
  it("are logged as aborted (499), not as server errors", async () => {
    // The half body must reach a handler, so send it from an allowed address (the default gateway).
    const lines: Array<Record<string, unknown>> = [];
    const local = await startTestGateway("ctl-abort");
    const original = local.farm.logger;
    const capture = (level: string) => (obj: Record<string, unknown>, msg?: string) => {
      lines.push({ level, msg, ...obj });
    };
    const child = { info: capture("info"), warn: capture("warn"), error: capture("error"), child: () => child };
    (local.farm as { logger: unknown }).logger = { ...original, child: () => child, error: capture("error") };
    try {
      for (const route of ["/api/jobs", "/server/speedtest.php"]) {
        await new Promise<void>((resolve) => {
          const { port } = new URL(local.url);
          const s = net.connect(Number(port), "127.0.0.1", () => {
            s.write(
              `POST ${route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`,
            );
            s.write('{"name": "half');
            setTimeout(() => {
              s.destroy();
              resolve();
            }, 100);
          });
        });
        await waitFor(async () => lines.find((l) => l.msg === "request" && l.path === route));
      }
    } finally {
      (local.farm as { logger: unknown }).logger = original;
      await local.close();
    }
    const requests = lines.filter((l) => l.msg === "request");
    expect(requests).toHaveLength(2);
    for (const r of requests) expect(r).toMatchObject({ level: "warn", status: 499, aborted: true });
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
  });
});
