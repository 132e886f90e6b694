import type { Job, JobNeeds } from "../jobs/job.js";

/** A Blender build clients download and run (a zip with `rend.exe` at its root). */
export interface Renderer {
  name: string;
  /** `windows`, `mac`, `linux` as SheepIt clients send them. */
  os: string;
  /** `32bit` or `64bit`. */
  bits: string;
  /** Lowercase hex MD5 of the zip. */
  md5: string;
  size: number;
  /** The command-line template (`.e`, `.c`, `.o`, `.f` placeholders). */
  commandline: string;
  isDefault: boolean;
  /** Absolute path of the zip. */
  file: string;
}

/** The renderers on offer (adapters/storage/renderer-catalog.ts: a folder with a manifest). */
export interface RendererCatalog {
  /** The renderer for a platform: the default one, else the last registered; null when none. */
  find(os: string, bits: string): Promise<Renderer | null>;
  list(): Promise<Renderer[]>;
}

/** A piece of a job archive as 2024 SheepIt clients download it: bytes [offset, offset + size) of the zip. */
export interface ArchiveChunk {
  /** Lowercase hex MD5 of the piece; also its id on the wire. */
  md5: string;
  offset: number;
  size: number;
}

/** A job's files as one zip for render clients. */
export interface JobArchive {
  md5: string;
  size: number;
  /** Absolute path of the zip. */
  file: string;
  /** The zip cut into pieces of SHEEPIT_CHUNK_SIZE bytes (the last one shorter), in order. */
  chunks: ArchiveChunk[];
  /** The blend file's path inside the zip (forward slashes). */
  blendPath: string;
  /** The zip's password ("" when it is not encrypted). */
  password: string;
}

/** Builds and caches job archives (adapters/storage/archive-builder.ts). */
export interface JobArchives {
  /**
   * The job's archive; null while it is still being built (the build goes on in the background).
   * `too-large` past the configured cap, `storage` when the files cannot be read.
   */
  forJob(job: Job): Promise<JobArchive | null>;
}

/** What decoding an uploaded frame found. */
export interface ImageInfo {
  format: "png" | "jpeg" | "tiff" | "exr";
  width: number;
  height: number;
  /** Every pixel is black; undefined when the format's pixels could not be checked. */
  black: boolean | undefined;
}

/** Frames coming back from clients (adapters/storage/frame-files.ts). */
export interface FrameFiles {
  /** Decodes the file; `invalid` (reason `not-an-image`) when it is not a PNG, JPEG, TIFF or EXR image. */
  inspect(file: string): Promise<ImageInfo>;
  /** A temporary path beside `target` (its folder created) to receive an upload into. */
  tempFor(target: string): Promise<string>;
  /** Moves `file` to `target` atomically (a reader sees the old file or the whole new one); `storage` on failure. */
  place(file: string, target: string): Promise<void>;
  /** Removes a temporary file (no error when it is gone). */
  discard(file: string): Promise<void>;
}

export interface ClientErrorReport {
  time: string;
  type: number;
  job: number | null;
  frame: number | null;
  log: string;
}

/** State of render-client sessions kept beside the farm's (adapters/redis/redis-render-client-store.ts). */
export interface RenderClientStore {
  /** The secret that signs validation tokens, created on first use and shared by every gateway. */
  secret(): Promise<Buffer>;
  /** Records that the session was given a frame of the job now. */
  recordAssignment(sessionId: string, jobId: string): Promise<void>;
  /** When the session was last given a frame of the job (ms), or null. */
  lastAssignment(sessionId: string, jobId: string): Promise<number | null>;
  /** Jobs the session was given a frame of since `sinceMs`, the latest first, at most `limit`. */
  recentJobs(sessionId: string, sinceMs: number, limit: number): Promise<string[]>;
  /**
   * The job's known frame dimensions; stores `dims` when none are known yet and answers them. The
   * first dimensions stored never change, so an answer may come from memory.
   */
  firstDimensions(jobId: string, dims: { width: number; height: number }): Promise<{ width: number; height: number }>;
  /** Counts a broken frame in a row; answers the count. */
  countBroken(sessionId: string): Promise<number>;
  /** Resets the broken-frame count; with `credits` (> 0), also adds them to the session's credits, atomically. */
  resetBroken(sessionId: string, credits?: number): Promise<void>;
  sessionCredits(sessionId: string): Promise<number>;
  /** Keeps the report, the last `keep` reports per session. */
  recordError(sessionId: string, report: ClientErrorReport, keep: number): Promise<void>;
  errors(sessionId: string): Promise<ClientErrorReport[]>;
  /** Drops everything kept for a session. */
  forgetSession(sessionId: string): Promise<void>;
  /** The job's archive record, as last built. */
  jobArchive(jobId: string): Promise<(Omit<JobArchive, "file" | "password" | "chunks"> & { key: string }) | null>;
  setJobArchive(jobId: string, a: Omit<JobArchive, "file" | "password" | "chunks"> & { key: string }): Promise<void>;
  /** The job behind each archive md5 (null where unknown) with its status (null when the job is gone). */
  archiveJobs(md5s: string[]): Promise<Array<{ jobId: string; status: string | null } | null>>;
  /** The frame's state letter in the scheduler's bookkeeping (`a`, `c`, `s`, `f`, `q`) with its holder. */
  frameState(jobId: string, index: number): Promise<{ state: string; sessionId: string; leaseId: string } | null>;
  /** What the scheduler currently knows the job needs. */
  jobNeeds(jobId: string): Promise<JobNeeds>;
  /** Numbers for `<stats>`: frames left and jobs among runnable jobs, sessions seen since `seenSince` (ms). */
  farmStats(seenSince: number): Promise<{ framesRemaining: number; jobsWaiting: number; connected: number }>;
}
