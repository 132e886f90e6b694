import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's chromium (`apt-get install chromium`; `.ci/run` installs it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface TestBrowser {
  /** The browser's one context (fresh profile): pages share its localStorage. */
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Debian chromium driven by playwright-core, in a fresh user-data dir, without the
 * browser's own network traffic (no updates, sync, QUIC).
 */
export async function launchBrowser(viewport = { width: 1360, height: 900 }): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install --no-install-recommends chromium`);
  }
  const userData = fs.mkdtempSync(path.join(os.tmpdir(), "bw-chromium-"));
  const context = await chromium.launchPersistentContext(userData, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
      "--disable-quic",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userData, { recursive: true, force: true });
    },
  };
}
