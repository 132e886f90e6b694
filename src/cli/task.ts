import { currentTasks } from "../domain/scheduling/job-task-list.js";
import { taskName, taskStatus } from "../domain/scheduling/task-view.js";
import { type CliGroup, UsageError } from "./command.js";

/** `bellwether task ...`: a job's tasks and their logs (a SheepIt client's error report is its task's log). */
export const taskGroup: CliGroup = {
  name: "task",
  description: "a job's tasks and their logs",
  commands: {
    list: {
      usage: "<job-id> [--json]",
      description: "a job's tasks: id, name, status, attempt, who holds or held it",
      async run(ctx, args) {
        const [jobId] = args.positionals;
        if (!jobId) throw new UsageError("a job id is required");
        const farm = await ctx.farm();
        const [job, all] = await Promise.all([farm.jobs.get(jobId), farm.jobs.tasks(jobId)]);
        const leases = currentTasks(all);
        const holders = new Map<string, string>();
        for (const id of new Set(leases.map((l) => l.sessionId))) {
          const s = (await farm.sessions.get(id)) ?? (await farm.sessions.formerHolder(id));
          holders.set(id, s ? `${s.name} (${s.protocol})` : "-");
        }
        const rows = leases.map((l) => ({
          id: l.id,
          name: taskName(l, job),
          status: taskStatus(l),
          attempt: l.attempt,
          holder: holders.get(l.sessionId) ?? "-",
        }));
        if (args.flags.json) ctx.out(JSON.stringify(rows, null, 2));
        else {
          ctx.out(["id".padEnd(36), "name".padEnd(20), "status".padEnd(12), "try", "holder"].join("  "));
          for (const r of rows) {
            ctx.out(
              [r.id.padEnd(36), r.name.padEnd(20), r.status.padEnd(12), String(r.attempt).padStart(3), r.holder].join(
                "  ",
              ),
            );
          }
        }
        return 0;
      },
    },
    log: {
      usage: "<task-id>",
      description: "a task's log (for a failed SheepIt frame: the client's error report)",
      async run(ctx, args) {
        const [taskId] = args.positionals;
        if (!taskId) throw new UsageError("a task id is required");
        const log = await (await ctx.farm()).workers.taskLog(taskId);
        ctx.out(log.replace(/\n$/, ""));
        return 0;
      },
    },
  },
};
