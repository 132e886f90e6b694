import { randomBytes } from "node:crypto";

/** One answer: status, headers and the body (parsed JSON, text, or undefined when empty). */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

/** Raw HTTP against a gateway, for tests that check every status code of the worker API. */
export async function http(
  base: string,
  method: string,
  route: string,
  opts: { json?: unknown; raw?: string; auth?: { id: string; secret: string } | string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.json !== undefined || opts.raw !== undefined) headers["content-type"] = "application/json";
  if (typeof opts.auth === "string") headers.authorization = opts.auth;
  else if (opts.auth)
    headers.authorization = `Basic ${Buffer.from(`${opts.auth.id}:${opts.auth.secret}`).toString("base64")}`;
  const res = await fetch(base + route, {
    method,
    headers,
    ...(opts.raw !== undefined
      ? { body: opts.raw }
      : opts.json !== undefined
        ? { body: JSON.stringify(opts.json) }
        : {}),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** A worker driven call by call: register, then every worker call with its credentials. */
export class WorkerClient {
  id = "";
  readonly secret = randomBytes(32).toString("hex");

  constructor(
    readonly base: string,
    readonly nickname = `test-${randomBytes(3).toString("hex")}`,
    readonly platform = "linux",
    readonly taskTypes: string[] = ["blender", "ffmpeg", "misc"],
  ) {}

  get auth() {
    return { id: this.id, secret: this.secret };
  }

  async register(): Promise<Answer> {
    const a = await http(this.base, "POST", "/api/worker/register-worker", {
      json: {
        secret: this.secret,
        platform: this.platform,
        supported_task_types: this.taskTypes,
        nickname: this.nickname,
      },
    });
    if (a.status === 200) this.id = (a.body as { uuid: string }).uuid;
    return a;
  }

  call(method: string, route: string, json?: unknown): Promise<Answer> {
    return http(this.base, method, route, { auth: this.auth, ...(json !== undefined ? { json } : {}) });
  }

  signOn(): Promise<Answer> {
    return this.call("POST", "/api/worker/sign-on", {
      nickname: this.nickname,
      supported_task_types: this.taskTypes,
      software_version: "3.0-test",
    });
  }

  stateChanged(status: string): Promise<Answer> {
    return this.call("POST", "/api/worker/state-changed", { status });
  }

  task(): Promise<Answer> {
    return this.call("POST", "/api/worker/task");
  }

  update(taskId: string, json: unknown): Promise<Answer> {
    return this.call("POST", `/api/worker/task/${taskId}`, json);
  }

  /** Register, sign on and go awake: ready to ask for tasks. */
  async awake(): Promise<this> {
    if ((await this.register()).status !== 200) throw new Error("registration failed");
    if ((await this.signOn()).status !== 200) throw new Error("sign-on failed");
    if ((await this.stateChanged("awake")).status !== 204) throw new Error("state-changed failed");
    return this;
  }
}
