import type { Farm } from "../app/farm.js";

/** What a subcommand gets: the farm on the same Redis and config as the server, and output. */
export interface CliContext {
  farm(): Promise<Farm>;
  out(line: string): void;
}

export interface CliCommand {
  /** e.g. "add <login> --password <password>" */
  usage: string;
  description: string;
  run(ctx: CliContext, args: ParsedArgs): Promise<number | undefined>;
}

/** A group of subcommands: `bellwether <group> <command> ...`. */
export interface CliGroup {
  name: string;
  description: string;
  commands: Record<string, CliCommand>;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | true>;
}

/** `--name value`, `--name=value` and bare `--flag`; everything else is positional. */
export function parseArgs(argv: readonly string[], booleanFlags: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else {
        const name = a.slice(2);
        const next = argv[i + 1];
        if (!booleanFlags.includes(name) && next !== undefined && !next.startsWith("--")) {
          flags[name] = next;
          i++;
        } else flags[name] = true;
      }
    } else positionals.push(a);
  }
  return { positionals, flags };
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export function stringFlag(args: ParsedArgs, name: string, required = false): string | undefined {
  const v = args.flags[name];
  if (v === true) throw new UsageError(`--${name} needs a value`);
  if (required && v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}
