#!/usr/bin/env node
import { ConfigError, loadConfig } from "../app/config.js";
import { createFarm, type Farm } from "../app/farm.js";
import { RedisServerMissingError } from "../app/local-redis.js";
import { createLogger } from "../app/logger.js";
import { openRedis, type RedisHandle } from "../app/runtime.js";
import { version } from "../app/version.js";
import { type CliContext, type CliGroup, parseArgs, UsageError } from "./command.js";
import { exitQuietlyOnEpipe } from "./epipe.js";
import { jobGroup } from "./job.js";
import { rendererGroup } from "./renderer.js";
import { taskGroup } from "./task.js";
import { tokenGroup } from "./token.js";
import { userGroup } from "./user.js";
import { workerGroup } from "./worker.js";

/** Every command group of `bellwether`; each lives in its own file under src/cli/. */
const groups: CliGroup[] = [jobGroup, taskGroup, workerGroup, userGroup, rendererGroup, tokenGroup];

function help(): string {
  const lines = [`bellwether ${version}: the render-farm gateway's command line`, "", "Usage:"];
  lines.push("  bellwether start                     run the gateway (same as npm start)");
  for (const g of groups) {
    for (const [name, cmd] of Object.entries(g.commands)) {
      lines.push(`  bellwether ${g.name} ${name} ${cmd.usage}`.padEnd(60) + cmd.description);
    }
  }
  lines.push("", "It reads the same environment as the server (REDIS_URL, REDIS_PREFIX, DATA_DIR, ...).");
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [groupName, commandName, ...rest] = argv;
  if (groupName !== "start") exitQuietlyOnEpipe();
  if (!groupName || groupName === "help" || groupName === "--help" || groupName === "-h") {
    process.stdout.write(`${help()}\n`);
    return groupName ? 0 : 2;
  }
  if (groupName === "--version") {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  if (groupName === "start") {
    await import("../app/main.js");
    return -1;
  }
  const group = groups.find((g) => g.name === groupName);
  const command = group && commandName ? group.commands[commandName] : undefined;
  if (!group || !command) {
    process.stderr.write(
      `bellwether: unknown command "${[groupName, commandName].filter(Boolean).join(" ")}"\n\n${help()}\n`,
    );
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger(process.env.LOG_LEVEL ?? "warn");
  let handle: RedisHandle | undefined;
  let farm: Farm | undefined;
  const ctx: CliContext = {
    async farm() {
      if (!farm) {
        handle = await openRedis(config, logger, { reuseRunning: true });
        farm = createFarm(config, handle.redis, logger);
      }
      return farm;
    },
    out: (line) => process.stdout.write(`${line}\n`),
  };
  try {
    return (await command.run(ctx, parseArgs(rest))) ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `bellwether ${groupName} ${commandName}: ${err.message}\nusage: bellwether ${groupName} ${commandName} ${command.usage}\n`,
      );
      return 2;
    }
    throw err;
  } finally {
    await farm?.close();
    await handle?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    if (err instanceof ConfigError || err instanceof RedisServerMissingError)
      process.stderr.write(`bellwether: ${err.message}\n`);
    else process.stderr.write(`bellwether: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
