import { requestableStatuses, type WorkerStatus, type WorkerSummary } from "../domain/workers/worker.js";
import { type CliGroup, type ParsedArgs, UsageError } from "./command.js";

function ago(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function line(w: WorkerSummary): string {
  const request = w.request ? `→ ${w.request.status}${w.request.lazy ? " (lazy)" : ""}` : "";
  const task = w.currentTask ? `${w.currentTask.name} ${w.currentTask.id}` : "-";
  return [w.id, w.status.padEnd(8), request.padEnd(16), ago(w.lastSeen).padStart(9), w.nickname.padEnd(20), task].join(
    "  ",
  );
}

/** `--lazy` is a bare flag; the generic parser may have taken the next word as its value. */
function lazyFlag(args: ParsedArgs): { lazy: boolean; positionals: string[] } {
  const v = args.flags.lazy;
  if (typeof v === "string") return { lazy: true, positionals: [...args.positionals, v] };
  return { lazy: v === true, positionals: args.positionals };
}

/** `bellwether worker ...`: Flamenco workers from the command line. */
export const workerGroup: CliGroup = {
  name: "worker",
  description: "list Flamenco workers and ask them to change status",
  commands: {
    list: {
      usage: "[--json]",
      description: "workers: status, pending request, last seen, current task",
      async run(ctx, args) {
        const workers = await (await ctx.farm()).workers.list();
        if (args.flags.json) ctx.out(JSON.stringify(workers, null, 2));
        else {
          ctx.out(
            [
              "id".padEnd(36),
              "status".padEnd(8),
              "requested".padEnd(16),
              "last seen".padStart(9),
              "name".padEnd(20),
              "task",
            ].join("  "),
          );
          for (const w of workers) ctx.out(line(w));
        }
        return 0;
      },
    },
    setstatus: {
      usage: `<worker-id> <${requestableStatuses.join("|")}> [--lazy]`,
      description: "ask a worker to change status (--lazy: after its current task)",
      async run(ctx, args) {
        const { lazy, positionals } = lazyFlag(args);
        if (positionals.length !== 2) throw new UsageError("a worker id and a status are required");
        // The status is the word that names one (the parser may have moved words around `--lazy`).
        const status = positionals.find((p) => requestableStatuses.includes(p as WorkerStatus)) ?? positionals[1];
        const id = positionals.find((p) => p !== status) ?? "";
        if (!requestableStatuses.includes(status as WorkerStatus)) {
          throw new UsageError(`status must be one of ${requestableStatuses.join(", ")}`);
        }
        const farm = await ctx.farm();
        await farm.workers.requestStatus(id, status as WorkerStatus, lazy);
        ctx.out(`worker ${id}: asked to go ${status}${lazy ? " after its current task" : " now"}`);
        return 0;
      },
    },
  },
};
