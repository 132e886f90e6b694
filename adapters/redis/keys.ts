/**
 * Every Redis key of the farm, in one place. All keys share one hash tag (`{prefix}`) so the Lua
 * scripts that touch several of them stay valid on a Redis Cluster (one slot; see
 * docs/architecture.md). BullMQ's own keys use the same prefix: `{prefix}:job-<uuid>:wait`, ...
 */
export class Keys {
  /** The BullMQ prefix and the start of every key: `{bw}`. */
  readonly root: string;

  constructor(prefix: string) {
    this.root = `{${prefix}}`;
  }

  /** Hash: the job record and its counters. */
  job(id: string) {
    return `${this.root}:job:${id}`;
  }
  /** Sorted set of job ids by creation time (ms). */
  jobsByCreation() {
    return `${this.root}:jobs`;
  }
  /** Hash: frame index → "state|session|lease|attempts|time" for frames that were touched. */
  frameStates(jobId: string) {
    return `${this.root}:job:${jobId}:frames`;
  }
  /** Hash: frame index (or `video`) → how many times it was handed out. */
  frameAttempts(jobId: string) {
    return `${this.root}:job:${jobId}:attempts`;
  }
  /** Hash: SheepIt's numeric project id → job id. */
  sheepitIds() {
    return `${this.root}:sheepit-ids`;
  }
  /** Counter for SheepIt's numeric project ids (start at 20). */
  sheepitIdCounter() {
    return `${this.root}:sheepit-id-counter`;
  }

  /** BullMQ queue name of a job's frames. */
  queueName(jobId: string) {
    return `job-${jobId}`;
  }
  /** A BullMQ key of a job's queue, e.g. `wait`, `prioritized`. */
  bull(jobId: string, suffix: string) {
    return `${this.root}:${this.queueName(jobId)}:${suffix}`;
  }

  /** Sorted set: runnable job id → job priority (what the claim looks at). */
  runnable() {
    return `${this.root}:sched:runnable`;
  }
  /** Hash: job id → frames handed out so far (fair share among equal priorities). */
  served() {
    return `${this.root}:sched:served`;
  }
  /**
   * Sorted set: runnable jobs that may have frames in line, best first (priority, then frames
   * served, then id; see READY_SCORE in adapters/bullmq/claim-script.ts): what a claim walks.
   */
  ready() {
    return `${this.root}:sched:ready`;
  }
  /** Sorted set: runnable job id → frames served (the least-served lookup of `setRunnable`). */
  servedRank() {
    return `${this.root}:sched:served-rank`;
  }
  /**
   * Sorted set: job id → last claim or sweep (ms) for jobs that may have frames out; the sweep's
   * stalled and orphan checks look only at these, so their cost follows the work out, not the
   * number of jobs.
   */
  engaged() {
    return `${this.root}:sched:engaged`;
  }
  /** Set: jobs whose frames are not all materialised as BullMQ jobs yet (the sweep tops them up). */
  filling() {
    return `${this.root}:sched:filling`;
  }
  /** Hash: what the claim needs of a job (task type, device, memory, time). */
  schedJob(jobId: string) {
    return `${this.root}:sched:${jobId}`;
  }
  /**
   * Hash: run k of the job's frame list → `first,last,offset` (offset: the index of `first`), what
   * the claim script materialises frames from (adapters/bullmq/frame-window-script.ts).
   */
  schedRuns(jobId: string) {
    return `${this.root}:sched:${jobId}:runs`;
  }
  /** Set: sessions blocklisted from a job. */
  blocklist(jobId: string) {
    return `${this.root}:sched:${jobId}:block`;
  }
  /** Hash: session → failures it had in the job. */
  failureCounts(jobId: string) {
    return `${this.root}:sched:${jobId}:fails`;
  }
  /** Set: frame indices of the job that `sessionId` failed (its failure lists). */
  sessionFailedFrames(jobId: string, sessionId: string) {
    return `${this.root}:sched:${jobId}:sfail:${sessionId}`;
  }

  /** Hash: a lease (Flamenco task). */
  lease(id: string) {
    return `${this.root}:lease:${id}`;
  }
  /** Set: lease ids a session holds. */
  sessionLeases(sessionId: string) {
    return `${this.root}:session:${sessionId}:leases`;
  }
  /** String: the task log of a lease (bounded by TASK_LOG_MAX). */
  leaseLog(id: string) {
    return `${this.root}:lease:${id}:log`;
  }
  /** Sorted set: lease ids of a job by creation time. */
  jobLeases(jobId: string) {
    return `${this.root}:job:${jobId}:leases`;
  }

  /** Hash: a session of either protocol. */
  session(id: string) {
    return `${this.root}:session:${id}`;
  }
  /** Sorted set: session id → last seen (ms). */
  sessionsSeen() {
    return `${this.root}:sessions:seen`;
  }
  /** Hash: a Flamenco worker's hashed secret {algo, salt, hash} (its session is `session(id)`). */
  workerSecret(workerId: string) {
    return `${this.root}:worker:${workerId}:secret`;
  }
  /** Hash: a status an operator asked of a Flamenco worker {status, lazy}. */
  workerRequest(workerId: string) {
    return `${this.root}:worker:${workerId}:request`;
  }
  /** Hash: a Flamenco worker's sleep schedule {active, days, start, end}. */
  workerSleepSchedule(workerId: string) {
    return `${this.root}:worker:${workerId}:sleep`;
  }
  /** Set: workers with a sleep schedule (the sweep applies theirs). */
  sleepScheduledWorkers() {
    return `${this.root}:workers:sleep-scheduled`;
  }
  /** A short lock taken by the process running a sweep. */
  sweepLock(name: string) {
    return `${this.root}:sweep-lock:${name}`;
  }
  // ---- SheepIt clients and accounts ----
  /** Hash: a user (login, password hash, flags, points). */
  user(login: string) {
    return `${this.root}:user:${login}`;
  }
  /** Set: every login. */
  users() {
    return `${this.root}:users`;
  }
  /** Hash: render key hash → {machine, created} of a user. */
  userKeys(login: string) {
    return `${this.root}:user:${login}:keys`;
  }
  /** Counter with expiry: failed logins of a subject (`login:<login>` or `addr:<address>`). */
  loginFailures(subject: string) {
    return `${this.root}:login-failures:${subject}`;
  }
  /** String: the HMAC secret signing SheepIt validation URLs (generated once). */
  sheepitSecret() {
    return `${this.root}:sheepit:secret`;
  }
  /** Sorted set: job id → when a SheepIt session was last given a frame of it (archive access). */
  sheepitSessionJobs(sessionId: string) {
    return `${this.root}:sheepit:session:${sessionId}:jobs`;
  }
  /** Hash: per SheepIt session counters (credits, broken frames in a row). */
  sheepitSessionCounters(sessionId: string) {
    return `${this.root}:sheepit:session:${sessionId}:counters`;
  }
  /** List: error reports of a SheepIt session (bounded). */
  sheepitErrors(sessionId: string) {
    return `${this.root}:sheepit:session:${sessionId}:errors`;
  }
  /** Hash: a job's archive for SheepIt clients (content key, md5, size, blend path). */
  sheepitJobArchive(jobId: string) {
    return `${this.root}:sheepit:archive:${jobId}`;
  }
  /** Hash: archive md5 → job id (which cached archives clients may delete). */
  sheepitArchiveMd5s() {
    return `${this.root}:sheepit:archive-md5s`;
  }
  /** String "WxH": dimensions of a job's first accepted frame from a SheepIt client. */
  sheepitJobDims(jobId: string) {
    return `${this.root}:sheepit:dims:${jobId}`;
  }

  // ---- farm control ----
  /** Hash: control token name → JSON {hash, created} (the token itself is never stored). */
  controlTokens() {
    return `${this.root}:control:tokens`;
  }
  /** Hash: SHA-256 of a control token → its name (the lookup of every bearer check). */
  controlTokenHashes() {
    return `${this.root}:control:token-hashes`;
  }
  /** Hash: control token name → ISO time it was last accepted. */
  controlTokensUsed() {
    return `${this.root}:control:tokens-used`;
  }

  /** Anything else, namespaced: `{bw}:<parts>`. */
  other(...parts: string[]) {
    return [this.root, ...parts].join(":");
  }
}
