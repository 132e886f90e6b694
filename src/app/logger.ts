import { type Logger, pino } from "pino";

export type { Logger };

/** Field paths whose values must never reach a log line (passwords, worker secrets, keys, tokens). */
export const redactedPaths = [
  "password",
  "secret",
  "publickey",
  "token",
  "*.password",
  "*.secret",
  "*.publickey",
  "*.token",
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "headers.cookie",
];

/** pino JSON logs; `level` comes from LOG_LEVEL. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "bellwether" },
      redact: { paths: redactedPaths, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/**
 * The gateway's stdout for its log: lines gathered and written together once 4 KB are waiting
 * or every 100 ms (a write system call per request line cost about as much as formatting it),
 * and whatever is left written synchronously when the process exits (a crash included; only a
 * SIGKILL loses up to 100 ms of lines).
 */
export function batchedStdout(flushMs = 100): pino.DestinationStream {
  const dest = pino.destination({ dest: 1, sync: true, minLength: 4096, periodicFlush: flushMs });
  process.once("exit", () => {
    try {
      dest.flushSync();
    } catch {
      // stdout is gone: nothing to write to.
    }
  });
  return dest;
}
