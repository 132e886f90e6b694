import type { Redis } from "ioredis";
import * as claimScripts from "../../adapters/bullmq/claim-script.js";
import * as leaseScripts from "../../adapters/bullmq/lease-scripts.js";
import * as requeueScripts from "../../adapters/bullmq/requeue-scripts.js";
import * as schedulerScripts from "../../adapters/bullmq/scheduler-scripts.js";
import { LuaScript } from "../../adapters/redis/lua-script.js";
import { waitFor } from "./farm.js";

/**
 * Counts the Redis commands a piece of code sends on one connection (the farm's), and the round
 * trips: a command sent while none is awaiting its reply starts a new one; commands sent while
 * others are in flight travel together, pipelined. Scripts are named: the farm's own by their
 * name (those the scheduling modules export; any other by the start of its SHA), BullMQ's by the
 * name it defined them under on the connection.
 */

export interface Count {
  commands: string[];
  roundTrips: number;
}

interface CommandLike {
  name: string;
  args: unknown[];
  promise: Promise<unknown>;
}

const namedScripts = new Map<string, string>();
for (const mod of [schedulerScripts, claimScripts, leaseScripts, requeueScripts]) {
  for (const s of Object.values(mod)) {
    if (s instanceof LuaScript) {
      namedScripts.set(s.sha, s.name);
      namedScripts.set(s.source, s.name);
    }
  }
}

export class CommandCounter {
  private outstanding = 0;
  private recording: Count | undefined;

  constructor(private readonly redis: Redis) {
    const r = redis as unknown as { sendCommand: (cmd: CommandLike, ...rest: unknown[]) => unknown };
    const original = r.sendCommand.bind(redis);
    r.sendCommand = (cmd: CommandLike, ...rest: unknown[]) => {
      if (this.recording) {
        if (this.outstanding === 0) this.recording.roundTrips++;
        this.recording.commands.push(this.describe(cmd));
      }
      this.outstanding++;
      cmd.promise.then(
        () => this.outstanding--,
        () => this.outstanding--,
      );
      return original(cmd, ...rest);
    };
  }

  /** The command's name; a script by its name (ours, or BullMQ's as defined on the connection). */
  private describe(cmd: CommandLike): string {
    if (cmd.name !== "evalsha" && cmd.name !== "eval") return cmd.name;
    const first = String(cmd.args[0] ?? "");
    const ours = namedScripts.get(first);
    if (ours) return `${cmd.name}:${ours}`;
    const defined = (this.redis as unknown as { scriptsSet?: Record<string, { sha: string }> }).scriptsSet ?? {};
    for (const [name, script] of Object.entries(defined)) if (script.sha === first) return `${cmd.name}:bullmq.${name}`;
    if (cmd.name === "evalsha") return `evalsha:${first.slice(0, 8)}`;
    return `eval:${new LuaScript("?", first).sha.slice(0, 8)}`;
  }

  /** Waits until nothing is in flight on the connection (e.g. a background fill or roll-up). */
  async quiet(): Promise<void> {
    let calm = 0;
    await waitFor(
      async () => {
        calm = this.outstanding === 0 ? calm + 1 : 0;
        return calm >= 5;
      },
      10_000,
      10,
    );
  }

  async count<T>(fn: () => Promise<T>): Promise<Count & { value: T }> {
    await this.quiet();
    const rec: Count = { commands: [], roundTrips: 0 };
    this.recording = rec;
    try {
      const value = await fn();
      return { ...rec, value };
    } finally {
      this.recording = undefined;
    }
  }
}

/** Commands by name with how often each was sent, most frequent first (for the record). */
export function tally(commands: string[]): string {
  const n = new Map<string, number>();
  for (const c of commands) n.set(c, (n.get(c) ?? 0) + 1);
  return [...n.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([c, k]) => `${c}×${k}`)
    .join(" ");
}
