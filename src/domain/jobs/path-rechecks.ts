import { ExpiringMap } from "../expiring-map.js";
import type { FarmStorage } from "../storage.js";
import type { Job } from "./job.js";
import { pathsStillConfined } from "./submit-checks.js";

/**
 * The check of a job's paths when a task is handed out (`pathsStillConfined`: a folder replaced by
 * a symbolic link since submission), with a pass remembered in this process for `ttlMs` per job
 * and paths: on a busy farm every claim of a job's frames would otherwise resolve the same two
 * paths again (three file-system calls, most of a `POST /api/worker/task`'s own CPU). A failure is
 * never remembered. A link planted after a pass is found by the first hand-out after `ttlMs`; the
 * check was never more than that (a worker renders for minutes after it and writes where the
 * folder then leads).
 */
export class PathRechecks {
  private readonly passed: ExpiringMap<true>;

  constructor(
    private readonly storage: FarmStorage,
    private readonly ttlMs = 1_000,
    max = 1_000,
    private readonly now: () => number = Date.now,
  ) {
    this.passed = new ExpiringMap(max);
  }

  /** Why the job's paths are no longer safe, or null. */
  async why(job: Job): Promise<string | null> {
    const key = `${job.id}\0${String(job.settings.filepath)}\0${String(job.settings.render_output)}`;
    if (this.passed.get(key, this.now())) return null;
    const why = await pathsStillConfined(job, this.storage);
    if (why === null) this.passed.set(key, true, this.now() + this.ttlMs);
    return why;
  }
}
