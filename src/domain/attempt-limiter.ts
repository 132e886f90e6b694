/** One counter of attempts and its cap within the limiter's window. */
export interface AttemptLimit {
  subject: string;
  limit: number;
}

/**
 * Attempts counted atomically across processes (adapters/redis/redis-attempt-limiter.ts): an
 * attempt takes a slot of every subject before any secret is checked, all or none, and a
 * successful attempt gives its slots back. So N parallel wrong attempts check at most `limit`
 * secrets, however many processes they are spread over.
 */
export interface AttemptLimiter {
  /** Takes one slot of each subject; answers null when taken, else the first subject at its limit (nothing taken). */
  reserve(limits: readonly AttemptLimit[]): Promise<string | null>;
  /** Gives back the slots `reserve` took (the attempt succeeded). */
  refund(subjects: readonly string[]): Promise<void>;
}
