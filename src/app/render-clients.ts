import path from "node:path";
import { RedisAccountStore } from "../../adapters/redis/redis-account-store.js";
import { RedisAttemptLimiter } from "../../adapters/redis/redis-attempt-limiter.js";
import { RedisBlackFrames } from "../../adapters/redis/redis-black-frames.js";
import { RedisRenderClientStore } from "../../adapters/redis/redis-render-client-store.js";
import { RedisWorkerStore } from "../../adapters/redis/redis-worker-store.js";
import { ArchiveBuilder } from "../../adapters/storage/archive-builder.js";
import { LocalFrameFiles } from "../../adapters/storage/frame-files.js";
import { FolderRendererCatalog } from "../../adapters/storage/renderer-catalog.js";
import { AccountService } from "../domain/accounts/accounts.js";
import { RenderClientService } from "../domain/clients/render-clients.js";
import type { Farm } from "./farm.js";

/** Where SheepIt clients send frames: the path of every validation URL. */
export const VALIDATION_PATH = "/server/send_frame.php";
/** Window of the login counters (LOGIN_RATE_LIMIT per address, LOGIN_RATE_LIMIT_PER_LOGIN per login). */
export const LOGIN_WINDOW_MS = 15 * 60_000;

export interface RenderClients {
  accounts: AccountService;
  renderers: FolderRendererCatalog;
  frames: LocalFrameFiles;
  store: RedisRenderClientStore;
  service: RenderClientService;
}

const built = new WeakMap<Farm, RenderClients>();

/** Users on the farm's Redis (the command line needs only these). */
export function accountsOf(farm: Farm): AccountService {
  return new AccountService(
    new RedisAccountStore(farm.redis, farm.keys),
    new RedisAttemptLimiter(farm.redis, (s) => farm.keys.loginFailures(s), LOGIN_WINDOW_MS),
    {
      perAddress: farm.config.LOGIN_RATE_LIMIT,
      perLogin: farm.config.LOGIN_RATE_LIMIT_PER_LOGIN ?? 10 * farm.config.LOGIN_RATE_LIMIT,
    },
  );
}

/**
 * The render-client part of a farm (SheepIt clients), built once per farm: accounts, renderers,
 * job archives, frame files and the service over them; its session sweep joins the farm's sweeps.
 */
export function renderClientsOf(farm: Farm): RenderClients {
  const existing = built.get(farm);
  if (existing) return existing;
  const c = farm.config;
  const accounts = accountsOf(farm);
  const store = new RedisRenderClientStore(farm.redis, farm.keys, Math.max(c.SHEEPIT_SESSION_TIMEOUT, 24 * 3_600_000));
  const renderers = new FolderRendererCatalog(c.renderersDir);
  const frames = new LocalFrameFiles(farm.storage.root);
  const taskLogs = new RedisWorkerStore(farm.redis, farm.keys, c.TASK_LOG_MAX);
  const archives = new ArchiveBuilder(
    {
      dir: path.join(c.dataDir, "archives"),
      storageRoot: farm.storage.root,
      maxBytes: c.ARCHIVE_MAX,
      waitMs: 20_000,
      chunkSize: c.SHEEPIT_CHUNK_SIZE,
    },
    store,
    farm.logger,
  );
  const service = new RenderClientService(
    {
      accounts,
      sessions: farm.sessions,
      work: farm.work,
      scheduler: farm.scheduler,
      jobStore: farm.jobStore,
      storage: farm.storage,
      renderers,
      archives,
      frames,
      state: store,
      blackFrames: new RedisBlackFrames(farm.redis, farm.keys, 7 * 24 * 3_600_000),
      taskLog: (leaseId, text) => taskLogs.noteTask(leaseId, { log: text }),
      warn: (obj, msg) => farm.logger.warn(obj, msg),
    },
    {
      leaseMs: c.SHEEPIT_LEASE,
      sessionTimeoutMs: c.SHEEPIT_SESSION_TIMEOUT,
      maintenance: c.MAINTENANCE,
      overloadThreshold: c.OVERLOAD_THRESHOLD,
      minClientVersion: c.MIN_CLIENT_VERSION,
      brokenFrameLimit: c.SHEEPIT_BROKEN_FRAMES,
      archiveAccessMs: Math.max(c.SHEEPIT_LEASE, 3_600_000),
      validationPath: VALIDATION_PATH,
      errorReportsKept: 20,
      errorLogMax: 64 * 1024,
    },
  );
  farm.addSweeper("sheepit-sessions", async () => {
    await service.sweep();
  });
  const parts = { accounts, renderers, frames, store, service };
  built.set(farm, parts);
  return parts;
}
