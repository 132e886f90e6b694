import type { Logger } from "../logger.js";

export type LocalRedis = {
  /** redis://127.0.0.1:<port> */
  url: string;
  /** Shuts the server down (SHUTDOWN, then SIGTERM, then SIGKILL); resolves once the process has exited. */
  stop(): Promise<void>;
};

export type StartLocalRedisOptions = {
  dataDir: string;
  logger: Logger;
  /** TCP port on 127.0.0.1; a free one is picked when unset. */
  port?: number;
  /** PATH to search for redis-server instead of process.env.PATH (tests use this). */
  searchPath?: string;
  /** How long to wait for the server to answer (INFO, with its own pid). Default 10 s. */
  readyTimeoutMs?: number;
  /** How long stop() waits after SHUTDOWN, and again after SIGTERM, before escalating. Default 5 s. */
  stopTimeoutMs?: number;
  /**
   * On Linux, start redis-server through `setpriv --pdeathsig SIGTERM` (when setpriv is on the
   * search path) so it shuts down (flushing its append-only file) when this process dies, even by
   * SIGKILL. Default true.
   */
  dieWithParent?: boolean;
};
