import { controlTokensOf } from "../app/control.js";
import { type CliGroup, type ParsedArgs, UsageError } from "./command.js";

function nameArg(args: ParsedArgs): string {
  const name = args.positionals[0];
  if (!name) throw new UsageError("a token name is required");
  return name;
}

/** `bellwether token ...`: control tokens for farm control from outside CONTROL_ALLOWED_NETWORKS. */
export const tokenGroup: CliGroup = {
  name: "token",
  description: "control tokens (Authorization: Bearer) for job submission and farm management",
  commands: {
    add: {
      usage: "<name>",
      description: "makes a control token and prints it once (only its hash is stored)",
      async run(ctx, args) {
        const made = await controlTokensOf(await ctx.farm()).add(nameArg(args));
        ctx.out(made.token);
        ctx.out(`# control token "${made.name}": send it as "Authorization: Bearer <token>"; it is not shown again`);
        return 0;
      },
    },
    list: {
      usage: "[--json]",
      description: "token names with when they were made and last used (never the tokens)",
      async run(ctx, args) {
        const tokens = await controlTokensOf(await ctx.farm()).list();
        if (args.flags.json) {
          ctx.out(JSON.stringify(tokens, null, 2));
          return 0;
        }
        ctx.out(["name".padEnd(32), "created".padEnd(24), "last used"].join("  "));
        for (const t of tokens) ctx.out([t.name.padEnd(32), t.created.padEnd(24), t.lastUsed || "never"].join("  "));
        return 0;
      },
    },
    revoke: {
      usage: "<name>",
      description: "revokes a control token (every gateway refuses it within a few seconds)",
      async run(ctx, args) {
        await controlTokensOf(await ctx.farm()).revoke(nameArg(args));
        ctx.out(`revoked ${nameArg(args)}`);
        return 0;
      },
    },
  },
};
