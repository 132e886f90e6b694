import type { Job, JobStatus } from "../domain/jobs/job.js";
import { jobStatuses } from "../domain/jobs/job.js";
import { type CliContext, type CliGroup, type ParsedArgs, stringFlag, UsageError } from "./command.js";

function line(j: Job): string {
  const done = `${j.completedFrames}/${j.frameCount}`;
  return [j.id, j.status.padEnd(16), String(j.priority).padStart(4), done.padStart(13), j.name].join("  ");
}

function idArg(args: ParsedArgs): string {
  const id = args.positionals[0];
  if (!id) throw new UsageError("a job id is required");
  return id;
}

function setStatus(status: JobStatus, description: string) {
  return {
    usage: "<job-id> [--reason <text>]",
    description,
    async run(ctx: CliContext, args: ParsedArgs) {
      const farm = await ctx.farm();
      const job = await farm.jobs.setStatus(idArg(args), status, stringFlag(args, "reason") ?? "from the command line");
      ctx.out(line(job));
      return 0;
    },
  };
}

/** `bellwether job ...`: the job control actions of the API, from the command line. */
export const jobGroup: CliGroup = {
  name: "job",
  description: "list and control jobs",
  commands: {
    list: {
      usage: "[--status <s1,s2>] [--limit <n>] [--json]",
      description: "jobs, newest first",
      async run(ctx, args) {
        const statuses = stringFlag(args, "status")
          ?.split(",")
          .map((s) => s.trim()) as JobStatus[] | undefined;
        for (const s of statuses ?? []) {
          if (!jobStatuses.includes(s))
            throw new UsageError(`unknown status "${s}" (one of ${jobStatuses.join(", ")})`);
        }
        const limit = stringFlag(args, "limit");
        const farm = await ctx.farm();
        const jobs = await farm.jobs.list({
          ...(statuses ? { statuses } : {}),
          ...(limit ? { limit: Number(limit) } : {}),
        });
        if (args.flags.json) ctx.out(JSON.stringify(jobs, null, 2));
        else {
          ctx.out(["id".padEnd(36), "status".padEnd(16), "prio", "frames done".padStart(13), "name"].join("  "));
          for (const j of jobs) ctx.out(line(j));
        }
        return 0;
      },
    },
    show: {
      usage: "<job-id>",
      description: "one job with its settings and progress (JSON)",
      async run(ctx, args) {
        const farm = await ctx.farm();
        const job = await farm.jobs.get(idArg(args));
        // The needs the scheduler works with (raised as clients report them), not those at submission.
        const needs = await farm.scheduler.needs(job.id);
        ctx.out(JSON.stringify(needs ? { ...job, needs } : job, null, 2));
        return 0;
      },
    },
    cancel: setStatus("cancel-requested", "cancel a job; held frames are taken back"),
    pause: setStatus("paused", "stop handing out a job's frames"),
    resume: setStatus("queued", "resume a paused job"),
    requeue: setStatus(
      "requeued",
      "put what is not done back in line (failed frames and a failed video; all frames of a completed job), blocklist and failure lists cleared",
    ),
    priority: {
      usage: "<job-id> <priority>",
      description: "change a job's priority (higher first)",
      async run(ctx, args) {
        const priority = Number(args.positionals[1]);
        if (args.positionals[1] === undefined || !Number.isInteger(priority))
          throw new UsageError("a whole-number priority is required");
        const farm = await ctx.farm();
        ctx.out(line(await farm.jobs.setPriority(idArg(args), priority)));
        return 0;
      },
    },
    delete: {
      usage: "<job-id>",
      description: "delete a job from the farm (its files stay)",
      async run(ctx, args) {
        const farm = await ctx.farm();
        await farm.jobs.delete(idArg(args));
        ctx.out(`deleted ${idArg(args)}`);
        return 0;
      },
    },
  },
};
