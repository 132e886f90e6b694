import type { FrameList } from "./frame-range.js";
import type { Job, JobStatus } from "./job.js";

export interface JobListFilter {
  statuses?: readonly JobStatus[];
  limit?: number;
}

/** The port that keeps job records (adapters/redis/redis-job-store.ts). */
export interface JobStore {
  /** Stores a new job with its frame list; assigns nothing (the caller built the record). */
  create(job: Job, frames: FrameList): Promise<void>;
  get(id: string): Promise<Job | null>;
  /** The job's frame list as compiled. */
  frames(id: string): Promise<FrameList | null>;
  list(filter?: JobListFilter): Promise<Job[]>;
  /** A fresh SheepIt project id (20 or more), unique in the farm. */
  nextSheepitId(): Promise<number>;
  /** The job id behind a SheepIt project id. */
  idForSheepitId(sheepitId: number): Promise<string | null>;
  /**
   * Sets the status when the current one is in `from` (any when omitted). Returns the status the
   * job had, or null when the job does not exist. `updated` changes with each transition.
   */
  transition(
    id: string,
    to: JobStatus,
    opts?: { from?: readonly JobStatus[]; reason?: string },
  ): Promise<{ previous: JobStatus; changed: boolean } | null>;
  setPriority(id: string, priority: number): Promise<boolean>;
  delete(id: string): Promise<boolean>;
}
