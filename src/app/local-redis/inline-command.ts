import net from "node:net";

/**
 * True when the server on 127.0.0.1:port is `pid` and ready: INFO answers (not LOADING) with our
 * process id. Checking the pid keeps us from mistaking another server that holds the port for ours.
 */
export async function answersAs(port: number, pid: number | undefined, timeoutMs: number): Promise<boolean> {
  try {
    const reply = await sendCommand(port, "INFO server", timeoutMs);
    if (!reply.startsWith("$")) return false;
    const m = /^process_id:(\d+)\r?$/m.exec(reply);
    return m !== null && Number(m[1]) === pid;
  } catch {
    return false;
  }
}

/**
 * Sends one inline command and resolves with the whole reply as text: one line for simple
 * replies, header plus payload for a bulk string ("" if the server closed first).
 */
export function sendCommand(port: number, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let buffer = Buffer.alloc(0);
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(buffer.toString("utf8"));
    };
    const complete = (): boolean => {
      const eol = buffer.indexOf("\r\n");
      if (eol < 0) return false;
      if (buffer[0] !== 0x24 /* $ */) return true;
      const length = Number(buffer.subarray(1, eol).toString("latin1"));
      return length < 0 || buffer.length >= eol + 2 + length + 2;
    };
    const timer = setTimeout(() => done(new Error(`${command} timed out`)), timeoutMs);
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (complete()) done();
    });
    socket.once("error", (err) => done(err));
    socket.once("close", () => done());
  });
}
