import { FarmError, notFound } from "../errors.js";
import type { WorkService } from "../scheduling/work-service.js";

/** A preview image of a job: the last frame a worker rendered for it. */
export interface LastRenderedImage {
  jobId: string;
  contentType: "image/png" | "image/jpeg";
  /** When it was accepted (ISO). */
  updated: string;
}

/** The port that keeps last-rendered images (adapters/storage/last-rendered-files.ts). */
export interface LastRenderedStore {
  /** Takes the worker's turn: true and blocks it for `intervalMs`, or false when its last turn is younger. */
  takeTurn(workerId: string, intervalMs: number): Promise<boolean>;
  /** Keeps `bytes` as the job's image and marks the job as the farm's latest. */
  save(image: LastRenderedImage, bytes: Uint8Array): Promise<void>;
  info(jobId: string): Promise<LastRenderedImage | null>;
  /** The job whose image came last, or null. */
  latestJobId(): Promise<string | null>;
  /** The image's bytes, or null when there is none. */
  read(jobId: string): Promise<Uint8Array | null>;
}

export interface LastRenderedOptions {
  /** A worker's previews are accepted at most once per this many ms. */
  minIntervalMs: number;
}

/**
 * Last-rendered images (Flamenco 3's `output-produced`): a worker's preview of a task it holds
 * becomes its job's last-rendered image. A worker sending more often than once per
 * `minIntervalMs` is told to throttle (`unavailable` with `rateLimited`).
 */
export class LastRendered {
  constructor(
    private readonly work: WorkService,
    private readonly store: LastRenderedStore,
    private readonly opts: LastRenderedOptions,
  ) {}

  async accept(
    workerId: string,
    taskId: string,
    contentType: LastRenderedImage["contentType"],
    bytes: Uint8Array,
  ): Promise<void> {
    const lease = await this.work.lease(taskId);
    if (!lease) throw notFound(`no task ${taskId}`);
    if (lease.sessionId !== workerId) throw new FarmError("not-yours", `task ${taskId} is not assigned to you`);
    if (!(await this.store.takeTurn(workerId, this.opts.minIntervalMs))) {
      throw new FarmError(
        "unavailable",
        `previews are accepted at most once per ${Math.round(this.opts.minIntervalMs / 1000)} s per worker`,
        { rateLimited: true },
      );
    }
    await this.store.save({ jobId: lease.jobId, contentType, updated: new Date().toISOString() }, bytes);
  }

  info(jobId: string): Promise<LastRenderedImage | null> {
    return this.store.info(jobId);
  }

  async latest(): Promise<LastRenderedImage | null> {
    const id = await this.store.latestJobId();
    return id ? this.store.info(id) : null;
  }

  read(jobId: string): Promise<Uint8Array | null> {
    return this.store.read(jobId);
  }
}
