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
