export const REDIS_SERVER_MISSING_MESSAGE = [
  "redis-server was not found on PATH, and REDIS_URL is not set.",
  "Bellwether starts and manages a local Redis when REDIS_URL is unset; install one:",
  "  Debian/Ubuntu:  sudo apt-get install -y redis-server",
  "  macOS:          brew install redis",
  "Or point it at a Redis you run yourself:   REDIS_URL=redis://host:6379 npm start",
  "Or run everything in containers:           docker compose up",
].join("\n");

export class RedisServerMissingError extends Error {
  override name = "RedisServerMissingError";
  constructor() {
    super(REDIS_SERVER_MISSING_MESSAGE);
  }
}

/** redis-server was found but could not be started (its output is quoted in the message). */
export class RedisStartError extends Error {
  override name = "RedisStartError";
}
