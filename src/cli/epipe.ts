/**
 * `bellwether worker list | head`: once the reader has gone, writing to stdout fails with EPIPE.
 * That is not an error of the command: it exits quietly with status 0, as Unix tools do.
 */
export function exitQuietlyOnEpipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
}
