import { spawn } from "node:child_process";

export interface FfmpegResult {
  /** Exit code; null when it was killed or could not start. */
  code: number | null;
  /** The last bytes of what it wrote on stderr (its log), or why it could not start. */
  log: string;
}

/**
 * Runs one command line (`argv[0]` the executable) as a child process: no shell, arguments as
 * given. Keeps the last `logMax` bytes of stderr. `signal` kills it (SIGKILL after SIGTERM).
 */
export function runCommand(
  argv: readonly string[],
  opts: { signal?: AbortSignal; logMax?: number } = {},
): Promise<FfmpegResult> {
  const logMax = opts.logMax ?? 16_384;
  const [exe, ...args] = argv;
  return new Promise((resolve) => {
    if (!exe) return resolve({ code: null, log: "no command to run\n" });
    let tail = "";
    const keep = (chunk: Buffer | string) => {
      tail += chunk.toString();
      if (tail.length > logMax) tail = tail.slice(tail.length - logMax);
    };
    const child = spawn(exe, args, { stdio: ["ignore", "ignore", "pipe"], shell: false });
    child.stderr?.on("data", keep);
    const kill = () => {
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 2000).unref();
    };
    opts.signal?.addEventListener("abort", kill, { once: true });
    let settled = false;
    const done = (r: FfmpegResult) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener("abort", kill);
      resolve(r);
    };
    child.on("error", (err) => done({ code: null, log: `${tail}${exe}: ${err.message}\n` }));
    child.on("close", (code) => done({ code, log: tail }));
  });
}
