import type { FrameList } from "../jobs/frame-range.js";
import type { Job } from "../jobs/job.js";
import type { Lease } from "../scheduling/capabilities.js";
import type { Session } from "../sessions/session.js";
import type { RenderClientDeps } from "./render-client-options.js";

/** Jobs whose SheepIt id and frame list are kept in memory (each map is emptied when full). */
const JOBS_KEPT = 1_000;

/** Jobs as SheepIt clients name them: by SheepIt id and frame number. */
export class KnownJobs {
  /**
   * A job's SheepIt id and its frame list never change while the job exists (ids are never
   * reused): kept in memory once read. A deleted job is still caught where it matters, by reading
   * the job itself (null).
   */
  private readonly jobIds = new Map<number, string>();
  private readonly frameLists = new Map<string, FrameList>();

  constructor(private readonly d: RenderClientDeps) {}

  /** The job behind a SheepIt id, or null. */
  jobIdOf(sheepitId: number): Promise<string | null> {
    return cached(this.jobIds, sheepitId, () => this.d.jobStore.idForSheepitId(sheepitId));
  }

  /** The job's frame list, or null. */
  framesOf(jobId: string): Promise<FrameList | null> {
    return cached(this.frameLists, jobId, () => this.d.jobStore.frames(jobId));
  }

  /** The job and the session's lease of `frame` of the job with SheepIt id `sheepitId`, or null. */
  async heldFrame(s: Session, sheepitId: number, frame: number): Promise<{ job: Job; lease: Lease } | null> {
    const jobId = await this.jobIdOf(sheepitId);
    const job = jobId ? await this.d.jobStore.get(jobId) : null;
    if (!job) return null;
    const lease = (await this.d.work.held(s.id)).find((l) => l.jobId === job.id && l.frames.includes(frame));
    return lease ? { job, lease } : null;
  }
}

/** The value kept for `key`, else loaded and kept when found (values that never change while their job exists). */
async function cached<K, V>(map: Map<K, V>, key: K, load: () => Promise<V | null>): Promise<V | null> {
  const known = map.get(key);
  if (known !== undefined) return known;
  const value = await load();
  if (value !== null) {
    if (map.size >= JOBS_KEPT) map.clear();
    map.set(key, value);
  }
  return value;
}
