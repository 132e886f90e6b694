import type { SessionStore } from "../sessions/session.js";
import type { JobService } from "./job-service.js";

/**
 * The port that reads and edits a job's blocklist (adapters/redis/redis-job-blocklist.ts): the
 * sessions the failure rules kept from the job (BLOCKLIST_THRESHOLD failures in it).
 */
export interface BlocklistStore {
  /** Ids of the sessions blocklisted from the job. */
  members(jobId: string): Promise<string[]>;
  /** Takes the sessions off the job's blocklist and resets their failure counts in the job. */
  remove(jobId: string, sessionIds: readonly string[]): Promise<void>;
}

/** One blocklisted client of a job: a Flamenco worker or a SheepIt session, kept from all of the job's tasks. */
export interface BlocklistEntry {
  sessionId: string;
  /** Its name now, or when it ended; "" when forgotten. */
  name: string;
  /** The job's task type (the farm blocklists per job, not per task type). */
  taskType: string;
}

/**
 * A job's blocklist as operators see and edit it (Flamenco 3's `jobs/{id}/blocklist`). A client
 * taken off the list gets the job's work again with a fresh failure count; the frames it failed
 * itself stay barred from it (their failure lists), as the failure rules say.
 */
export class JobBlocklist {
  constructor(
    private readonly store: BlocklistStore,
    private readonly jobs: JobService,
    private readonly sessions: SessionStore,
  ) {}

  /** The job's blocklist; `not-found` for an unknown job. */
  async list(jobId: string): Promise<BlocklistEntry[]> {
    const job = await this.jobs.get(jobId);
    const ids = (await this.store.members(jobId)).sort();
    return Promise.all(
      ids.map(async (id) => {
        const s = await this.sessions.get(id);
        const name = s ? s.name : ((await this.sessions.formerHolder(id))?.name ?? "");
        return { sessionId: id, name, taskType: job.taskType };
      }),
    );
  }

  /** Takes the named clients off the job's blocklist (unknown ones are ignored); `not-found` for an unknown job. */
  async remove(jobId: string, sessionIds: readonly string[]): Promise<void> {
    await this.jobs.get(jobId);
    if (sessionIds.length > 0) await this.store.remove(jobId, sessionIds);
  }
}
