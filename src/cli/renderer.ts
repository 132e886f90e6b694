import { DEFAULT_COMMANDLINE, FolderRendererCatalog } from "../../adapters/storage/renderer-catalog.js";
import { type CliGroup, stringFlag, UsageError } from "./command.js";

/** `bellwether renderer ...`: the Blender builds SheepIt clients download. */
export const rendererGroup: CliGroup = {
  name: "renderer",
  description: "renderer archives for SheepIt clients",
  commands: {
    add: {
      usage: "<zip> --name <name> --os <windows|mac|linux> --bits <32bit|64bit> [--commandline <template>] [--default]",
      description: "registers a renderer zip (rend.exe at its root) under RENDERERS_DIR",
      async run(ctx, args) {
        const positionals = [...args.positionals];
        const def = args.flags.default;
        if (typeof def === "string" && def !== "true" && def !== "false") positionals.push(def);
        const zip = positionals[0];
        if (!zip) throw new UsageError("the renderer zip is required");
        const farm = await ctx.farm();
        const catalog = new FolderRendererCatalog(farm.config.renderersDir);
        const r = await catalog.add(zip, {
          name: stringFlag(args, "name", true) as string,
          os: stringFlag(args, "os", true) as string,
          bits: stringFlag(args, "bits", true) as string,
          commandline: stringFlag(args, "commandline"),
          isDefault: def === true || def === "true" || (typeof def === "string" && def !== "false"),
        });
        ctx.out(`added ${r.name} for ${r.os} ${r.bits}: ${r.file} (md5 ${r.md5})`);
        return 0;
      },
    },
    list: {
      usage: "",
      description: "registered renderers",
      async run(ctx) {
        const farm = await ctx.farm();
        const catalog = new FolderRendererCatalog(farm.config.renderersDir);
        for (const r of await catalog.list()) {
          const cmd = r.commandline === DEFAULT_COMMANDLINE ? "(default command line)" : r.commandline;
          ctx.out([r.name, r.os, r.bits, r.isDefault ? "default" : "-", r.md5, r.file, cmd].join("  "));
        }
        return 0;
      },
    },
  },
};
