import type { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { ConfigParams, ConfigStatus } from "../../../contracts/sheepit/index.js";
import type { AppEnv } from "../../../src/app/http-env.js";
import { formAndQuery, parseParams } from "../params.js";
import { remoteAddress, SESSION_COOKIE, type SheepitKit } from "../route-kit.js";
import { configXml, statusXml, xmlResponse } from "../xml.js";
import { BINARY_PATH } from "./download-binary.js";
import { CHUNK_PATH } from "./download-chunk.js";

/**
 * Session creation (`/server/config.php`): sign in, set the session cookie, list the endpoints of
 * both generations of clients.
 */
export function configRoute(app: Hono<AppEnv>, k: SheepitKit): void {
  app.on(["GET", "POST"], "/server/config.php", async (c) => {
    try {
      const raw = await formAndQuery(c);
      if (!raw.version) return xmlResponse(c, statusXml("config", ConfigStatus.noVersion));
      const p = parseParams(raw, ConfigParams);
      const { cookie, session, renderKey } = await k.service.signIn({
        login: p.login,
        password: p.password,
        version: p.version,
        os: p.os,
        bits: p.bits,
        hostname: p.hostname,
        hwid: p.hwid,
        ui: p.ui,
        cores: p.cpu_cores,
        ramKb: p.ram_max ?? p.ram,
        address: remoteAddress(c),
      });
      c.set("sessionId", session.id);
      setCookie(c, SESSION_COOKIE, cookie, {
        path: "/",
        httpOnly: true,
        sameSite: "Lax",
        secure: k.baseUrlOf(c).startsWith("https:"),
      });
      const mirrors = k.farm.config.SPEEDTEST_MIRRORS;
      return xmlResponse(
        c,
        configXml({
          status: ConfigStatus.ok,
          publickey: renderKey,
          requests: [
            { type: "request-job", path: "/server/request_job.php" },
            // 2020–2022 clients download through download-archive, 2024 ones through the two
            // below; each generation ignores the types it does not know.
            { type: "download-archive", path: "/server/archive.php" },
            { type: "download-binary", path: BINARY_PATH },
            { type: "download-chunk", path: CHUNK_PATH },
            { type: "error", path: "/server/error.php" },
            {
              type: "keepmealive",
              path: "/server/keepmealive.php",
              "max-period": Math.floor(k.farm.config.SHEEPIT_LEASE / 1000),
            },
            { type: "logout", path: "/account.php?mode=logout&worker=1" },
            { type: "speedtest-answer", path: "/server/speedtest.php" },
          ],
          ...(mirrors.length > 0 ? { speedtest: mirrors } : {}),
        }),
      );
    } catch (err) {
      return k.fail(c, "config", err);
    }
  });
}
