import type { AccountService } from "../accounts/accounts.js";
import type { JobStore } from "../jobs/job-store.js";
import type { Scheduler } from "../scheduling/scheduler.js";
import type { WorkService } from "../scheduling/work-service.js";
import type { SessionStore } from "../sessions/session.js";
import type { FarmStorage } from "../storage.js";
import type { BlackFrameStore } from "./black-frame-check.js";
import type { FrameFiles, JobArchives, RenderClientStore, RendererCatalog } from "./ports.js";

/** The settings and the ports every SheepIt client verb is built with (src/app/render-clients.ts fills them). */

export interface RenderClientOptions {
  /** Lease of a frame; renewed by every request of the client. */
  leaseMs: number;
  /** A session unseen this long is dead (its frames go back in line). */
  sessionTimeoutMs: number;
  maintenance: boolean;
  /** Requests in flight at which the farm says it is overloaded (0: never). */
  overloadThreshold: number;
  minClientVersion: string;
  /** Broken frames in a row that disable a session. */
  brokenFrameLimit: number;
  /** How long after being given a frame a session may still download the job's archive. */
  archiveAccessMs: number;
  validationPath: string;
  errorReportsKept: number;
  errorLogMax: number;
}

export interface RenderClientDeps {
  accounts: AccountService;
  sessions: SessionStore;
  work: WorkService;
  scheduler: Pick<Scheduler, "release" | "giveBack" | "setNeeds">;
  jobStore: JobStore;
  storage: FarmStorage;
  renderers: RendererCatalog;
  archives: JobArchives;
  frames: FrameFiles;
  state: RenderClientStore;
  blackFrames: BlackFrameStore;
  /** Appends to a task's log (the lease's, as Flamenco task logs: `GET /api/tasks/{id}/log`). */
  taskLog: (leaseId: string, text: string) => Promise<void>;
  warn: (obj: Record<string, unknown>, msg: string) => void;
}
