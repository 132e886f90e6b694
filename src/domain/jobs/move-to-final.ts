import path from "node:path";
import type { Scheduler } from "../scheduling/scheduler.js";
import type { FarmStorage } from "../storage.js";
import type { Job, JobStatus } from "./job.js";
import type { JobStore } from "./job-store.js";
import { SIMPLE_BLENDER_RENDER } from "./job-types.js";

/**
 * Flamenco 3's intermediate render folder and `move-to-final` (flamenco-v3-behaviour.md): a 3.x
 * `simple-blender-render` job renders into `<final dir>__intermediate-<timestamp>` beside its final
 * folder, its `preview-video` is made there, and once all its work is done the folder is moved to
 * the final one (a final folder that already exists is renamed aside first, as the 3.x worker's
 * `move-directory` does); only then is the job `completed`. The gateway moves it itself: it owns
 * STORAGE_ROOT (it writes SheepIt frames there), so the move is one rename on the shared storage
 * that no client has to be able to do (see docs/architecture.md).
 */

const MARK = "__intermediate-";

/** True when `p` is `dir` or lies below it. */
function within(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}
const INTERMEDIATE_RE = /^(.+)__intermediate-(\d{4}-\d\d-\d\d_\d{6})$/;

/** Where a 3.x job renders: `<parent>/<final dir name>__intermediate-<stamp>/<file pattern>`. */
export function intermediateRenderOutput(finalOutput: string, stamp: string): string {
  const finalDir = path.dirname(finalOutput);
  return path.join(path.dirname(finalDir), `${path.basename(finalDir)}${MARK}${stamp}`, path.basename(finalOutput));
}

export interface FinalMove {
  /** The intermediate folder (the job's render output folder). */
  src: string;
  /** The final folder beside it. */
  dest: string;
}

/**
 * The move a job ends with, or null: only a job compiled the 3.x way (`render_output_path` set,
 * `render_output` inside an intermediate folder of that name pattern) has one.
 */
export function finalMoveOf(job: Pick<Job, "type" | "settings">): FinalMove | null {
  const s = job.settings;
  if (job.type !== SIMPLE_BLENDER_RENDER || typeof s.render_output_path !== "string") return null;
  if (typeof s.render_output !== "string") return null;
  const src = path.dirname(s.render_output);
  const m = INTERMEDIATE_RE.exec(path.basename(src));
  if (!m?.[1]) return null;
  return { src, dest: path.join(path.dirname(src), m[1]) };
}

/** The port that moves a folder on the storage, and keeps two processes from moving one job's at once. */
export interface OutputMover {
  /** Runs `fn` holding the job's move lock; false (without running it) when another process holds it. */
  exclusive(jobId: string, fn: () => Promise<void>): Promise<boolean>;
  /**
   * Moves `src` to `dest` (an existing `dest` is renamed to `<dest>-<its modification time>` first).
   * A `src` that does not exist is nothing to move (done before, or nothing was written): "nothing".
   */
  moveDirectory(src: string, dest: string): Promise<"moved" | "nothing">;
  /** Notes, at `now`, that work of a job that ends with a move is out (so the sweep looks at it). */
  note(jobId: string, now?: number): Promise<void>;
  /** Forgets the job; with `at`, only when it was last noted then (not noted again since). */
  forget(jobId: string, at?: number): Promise<void>;
  /** Up to `limit` jobs last noted before `before`, least recently noted first. */
  noted(before: number, limit: number): Promise<Array<{ jobId: string; at: number }>>;
}

/** Jobs the move-to-final sweep looks at per run at most (the rest wait for the next run, oldest first). */
export const FINAL_MOVES_PER_SWEEP = 200;
/**
 * A note this old is looked at by the sweep (a younger one is a job whose work is being done: the
 * process doing it rolls the job up itself).
 */
export const FINAL_MOVE_QUIET_MS = 60_000;

/** Why the move may not run (a path led outside the storage since submission), or null. */
async function refused(job: Job, move: FinalMove, storage: FarmStorage): Promise<string | null> {
  try {
    const src = await storage.real(move.src, "the intermediate folder");
    const dest = await storage.real(move.dest, "render_output_path");
    if (dest === storage.root) return "the final folder is the storage root";
    const blend = await storage.real(String(job.settings.filepath), "settings.filepath");
    if (within(dest, blend)) return "the final folder holds the job's blend file";
    if (within(src, dest) || within(dest, src)) return "the final and intermediate folders overlap";
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Completes jobs whose last work is done by moving their output to its final folder first. */
export class MoveToFinal {
  /** Moves this process is making now: a second roll-up of the job waits for the first. */
  private readonly inFlight = new Map<string, Promise<JobStatus>>();

  constructor(
    private readonly store: JobStore,
    private readonly scheduler: Scheduler,
    private readonly storage: FarmStorage,
    private readonly mover: OutputMover,
  ) {}

  /**
   * Moves the job's intermediate folder to its final one and completes the job (`from` its status
   * then). A move that may not run or fails fails the job with the reason (requeueing it tries
   * again). Answers the job's status afterwards: a roll-up of a job this process is moving waits
   * for that move; when another process is moving it, the status it has now (that one completes it).
   */
  complete(job: Job, move: FinalMove, stillDone: (j: Job) => boolean): Promise<JobStatus> {
    const running = this.inFlight.get(job.id);
    if (running) return running;
    const p = this.moveAndComplete(job, move, stillDone).finally(() => this.inFlight.delete(job.id));
    this.inFlight.set(job.id, p);
    return p;
  }

  private async moveAndComplete(job: Job, move: FinalMove, stillDone: (j: Job) => boolean): Promise<JobStatus> {
    let status: JobStatus = job.status;
    await this.mover.exclusive(job.id, async () => {
      const now = await this.store.get(job.id);
      if (!now || !stillDone(now)) {
        status = now?.status ?? status;
        return;
      }
      const why = await refused(now, move, this.storage);
      let failure = why ? `the output cannot be moved to its final folder: ${why}` : "";
      if (!failure) {
        try {
          await this.mover.moveDirectory(move.src, move.dest);
        } catch (err) {
          failure = `moving the output to its final folder failed: ${err instanceof Error ? err.message : String(err)}`;
        }
      }
      const to = failure ? "failed" : "completed";
      const res = await this.store.transition(job.id, to, { from: [now.status], reason: failure });
      status = res?.changed ? to : (res?.previous ?? now.status);
      if (res?.changed) {
        await this.scheduler.setRunnable(job.id, false);
        await this.mover.forget(job.id);
      }
    });
    return status;
  }

  /**
   * Notes a job that ends with a move whose work was handed out (claimed) or put back in line
   * (requeued), so `sweep` finds it should the process that finishes its last task stop before
   * the move. Jobs that are only queued are not noted: the sweep's cost follows the work out, not
   * the number of jobs.
   */
  async track(job: Pick<Job, "id" | "type" | "settings">): Promise<void> {
    if (finalMoveOf(job)) await this.mover.note(job.id);
  }

  /** Notes a job whose work may finish now without a claim first (a late delivery); the sweep checks whether it ends with a move. */
  async trackId(jobId: string): Promise<void> {
    await this.mover.note(jobId);
  }

  /** Forgets a job (deleted). */
  async untrack(jobId: string): Promise<void> {
    await this.mover.forget(jobId);
  }

  /**
   * The noted jobs whose work is all done but that are not completed (the process that finished
   * their last task stopped before the move): `rollUp` moves and completes them. Looks only at
   * jobs noted `FINAL_MOVE_QUIET_MS` ago or earlier, at most `FINAL_MOVES_PER_SWEEP` of them.
   * Jobs that are gone, finished otherwise or end with no move are forgotten; so is a job with
   * nothing out (its next claim notes it again); one with work still out is noted again, so it is
   * looked at again a while later, after the others.
   */
  async sweep(
    rollUp: (jobId: string) => Promise<unknown>,
    isDone: (j: Job) => boolean,
    now = Date.now(),
  ): Promise<void> {
    const notes = await this.mover.noted(now - FINAL_MOVE_QUIET_MS, FINAL_MOVES_PER_SWEEP);
    if (notes.length === 0) return;
    // Frames out are counted before the jobs are read: a completion in between shows in the job's
    // record. Each step is sent for all the notes at once (pipelined: a round trip, not one a job).
    const out = await Promise.all(notes.map((n) => this.scheduler.activeFrameCount(n.jobId)));
    const jobs = await Promise.all(notes.map((n) => this.store.get(n.jobId)));
    const after: Promise<void>[] = [];
    const done: string[] = [];
    for (const [k, { jobId, at }] of notes.entries()) {
      const job = jobs[k];
      if (
        !job ||
        job.status === "completed" ||
        job.status === "canceled" ||
        job.status === "failed" ||
        !finalMoveOf(job)
      ) {
        after.push(this.mover.forget(jobId));
      } else if (isDone(job)) {
        done.push(jobId);
      } else if ((out[k] ?? 0) > 0) {
        after.push(this.mover.note(jobId, now));
      } else {
        after.push(this.mover.forget(jobId, at));
      }
    }
    await Promise.all(after);
    for (const jobId of done) await rollUp(jobId);
  }
}
