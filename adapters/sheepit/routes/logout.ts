import type { Hono } from "hono";
import type { AppEnv } from "../../../src/app/http-env.js";
import { queryParams } from "../params.js";
import type { SheepitKit } from "../route-kit.js";
import { statusXml, xmlResponse } from "../xml.js";

/** Session end (`/account.php?mode=logout`): the session's frames go back in line. */
export function logoutRoute(app: Hono<AppEnv>, k: SheepitKit): void {
  app.on(["GET", "POST"], "/account.php", async (c) => {
    if (queryParams(c).mode !== "logout") return c.text("not found", 404);
    try {
      await k.service.signOut(k.cookieOf(c));
    } catch (err) {
      c.get("log")?.warn({ err }, "logout failed");
    }
    return xmlResponse(c, statusXml("logout", 0));
  });
}
