import { randomBytes } from "node:crypto";

/** A JSON POST, with an Authorization header when given. */
export function postJson(url: string, body: unknown, auth?: string): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
    body: JSON.stringify(body),
  });
}

/**
 * Registers a Flamenco worker on the gateway, signs it on and makes it awake, as a 2022 worker
 * does; answers its Authorization header for the worker API.
 */
export async function awakeWorker(url: string, nickname: string): Promise<string> {
  const secret = randomBytes(16).toString("hex");
  const reg = await postJson(`${url}/api/worker/register-worker`, {
    secret,
    platform: "linux",
    supported_task_types: ["blender"],
    nickname,
  });
  const { uuid } = (await reg.json()) as { uuid: string };
  const auth = `Basic ${Buffer.from(`${uuid}:${secret}`).toString("base64")}`;
  const signOn = await postJson(
    `${url}/api/worker/sign-on`,
    { nickname, supported_task_types: ["blender"], software_version: "3.0" },
    auth,
  );
  const { status_requested } = (await signOn.json()) as { status_requested: string };
  await postJson(`${url}/api/worker/state-changed`, { status: status_requested || "awake" }, auth);
  return auth;
}
