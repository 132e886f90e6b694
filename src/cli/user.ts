import { accountsOf } from "../app/render-clients.js";
import type { User } from "../domain/accounts/accounts.js";
import { type CliGroup, type ParsedArgs, stringFlag, UsageError } from "./command.js";

function loginArg(args: ParsedArgs): string {
  const login = args.positionals[0];
  if (!login) throw new UsageError("a login is required");
  return login;
}

function line(u: User, keys: number): string {
  const flags = [u.disabled ? "disabled" : "enabled", u.canRender ? "can-render" : "no-render"].join(",");
  return [
    u.login.padEnd(24),
    flags.padEnd(20),
    String(u.points).padStart(10),
    String(keys).padStart(5),
    u.created,
  ].join("  ");
}

/** `bellwether user ...`: the people whose SheepIt clients render for the farm. */
export const userGroup: CliGroup = {
  name: "user",
  description: "SheepIt users and their render keys",
  commands: {
    add: {
      usage: "<login> --password <password> [--no-render]",
      description: "adds a user (stored with a scrypt hash of the password)",
      async run(ctx, args) {
        const password = stringFlag(args, "password", true) as string;
        const accounts = accountsOf(await ctx.farm());
        const user = await accounts.add(loginArg(args), password, { canRender: args.flags["no-render"] === undefined });
        ctx.out(`added ${user.login}${user.canRender ? "" : " (no right to render)"}`);
        return 0;
      },
    },
    list: {
      usage: "[--json]",
      description: "users with their flags, points and render keys",
      async run(ctx, args) {
        const accounts = accountsOf(await ctx.farm());
        const users = await accounts.list();
        const keys = await Promise.all(users.map((u) => accounts.countKeys(u.login)));
        if (args.flags.json) {
          ctx.out(
            JSON.stringify(
              users.map(({ passwordHash: _, ...u }, i) => ({ ...u, renderKeys: keys[i] })),
              null,
              2,
            ),
          );
          return 0;
        }
        ctx.out(
          ["login".padEnd(24), "flags".padEnd(20), "points".padStart(10), "keys".padStart(5), "created"].join("  "),
        );
        users.forEach((u, i) => {
          ctx.out(line(u, keys[i] ?? 0));
        });
        return 0;
      },
    },
    disable: {
      usage: "<login>",
      description: "refuses the user's logins; its sessions get no more frames (203)",
      async run(ctx, args) {
        await accountsOf(await ctx.farm()).setDisabled(loginArg(args), true);
        ctx.out(`disabled ${loginArg(args)}`);
        return 0;
      },
    },
    enable: {
      usage: "<login>",
      description: "lets a disabled user log in again",
      async run(ctx, args) {
        await accountsOf(await ctx.farm()).setDisabled(loginArg(args), false);
        ctx.out(`enabled ${loginArg(args)}`);
        return 0;
      },
    },
    render: {
      usage: "<login> <on|off>",
      description: "grants or takes the right to render (201 when off)",
      async run(ctx, args) {
        const v = args.positionals[1];
        if (v !== "on" && v !== "off") throw new UsageError("say on or off");
        await accountsOf(await ctx.farm()).setCanRender(loginArg(args), v === "on");
        ctx.out(`${loginArg(args)} ${v === "on" ? "may" : "may not"} render`);
        return 0;
      },
    },
    remove: {
      usage: "<login>",
      description: "removes the user and its render keys",
      async run(ctx, args) {
        await accountsOf(await ctx.farm()).remove(loginArg(args));
        ctx.out(`removed ${loginArg(args)}`);
        return 0;
      },
    },
    keys: {
      usage: "revoke <login>",
      description: "revokes every render key of the user (its clients must log in with the password)",
      async run(ctx, args) {
        const [action, login] = args.positionals;
        if (action !== "revoke") throw new UsageError('the only action is "revoke"');
        if (!login) throw new UsageError("a login is required");
        const n = await accountsOf(await ctx.farm()).revokeKeys(login);
        ctx.out(`revoked ${n} render key${n === 1 ? "" : "s"} of ${login}`);
        return 0;
      },
    },
  },
};
