import { FarmError } from "./errors.js";

/**
 * Bounds the secret checks (scrypt, tens of milliseconds of a libuv thread each) one process runs
 * at once: `concurrent` at a time, up to `waiting` more in line, and past that `unavailable`
 * at once, so a flood of checks cannot take every thread and starve the rest of the gateway.
 */
export class CheckGate {
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    private readonly concurrent = 2,
    private readonly waiting = 64,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrent) {
      if (this.queue.length >= this.waiting) {
        throw new FarmError("unavailable", "too many credential checks in progress; try again shortly");
      }
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}
