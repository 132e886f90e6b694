import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createHttpApp } from "../../src/app/server.js";
import { startSweeper } from "../../src/app/sweeper.js";
import { createTestFarm, type TestFarm } from "./farm.js";

export interface TestGateway extends TestFarm {
  /** Base URL of the running gateway, e.g. http://127.0.0.1:34567 */
  url: string;
  /** A second gateway process on the same Redis and prefix (own connection, own port). */
  twinGateway(): Promise<TestGateway>;
  /** Cuts every open connection (event streams too) as a restarting proxy would; still listening. */
  dropConnections(): void;
}

/**
 * A real gateway (HTTP server on a free loopback port) over a test farm. Env overrides go to the
 * config; PUBLIC_URL is set to the server's own URL.
 */
export async function startTestGateway(label: string, env: Record<string, string> = {}): Promise<TestGateway> {
  return wrap(createTestFarm(label, env));
}

async function wrap(t: TestFarm): Promise<TestGateway> {
  const app = createHttpApp(t.farm);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  // PUBLIC_URL is known only now; adapters read it from the config at request time.
  (t.farm.config as { publicUrl: string }).publicUrl = url;
  const stopSweeper = startSweeper(() => t.farm.sweep(), t.farm.config.SWEEP_INTERVAL);
  return {
    ...t,
    url,
    twinGateway: () => wrap(t.twin()),
    dropConnections() {
      (server as unknown as { closeAllConnections: () => void }).closeAllConnections();
    },
    async close() {
      stopSweeper();
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    },
  };
}
