/** `cell create|rm|ls`: the unit-level cell API (spec §9), master token required. */
import type { Command } from "commander";
import type { CommandContext } from "../context.ts";
import { printJson, printLine } from "../output/format.ts";
import { cellArgument } from "./arguments.ts";

type GetContext = () => CommandContext;

export function registerCellCommands(program: Command, getContext: GetContext): void {
  const cell = program.command("cell").description("create, remove and list cells (unit master token)");

  cell
    .command("create")
    .description("create an empty cell (POST /__ctl/Cell)")
    .argument("<cell>", "cell name", cellArgument)
    .action(async (name: string) => {
      const ctx = getContext();
      await ctx.client().createCell(name);
      if (ctx.config.json) printJson(ctx.io, { cell: name, created: true });
      else printLine(ctx.io, `created cell ${name} (${ctx.config.url}${name}/)`);
    });

  cell
    .command("rm")
    .description("remove a cell, its data and its snapshots (DELETE /__ctl/Cell('name'))")
    .argument("<cell>", "cell name", cellArgument)
    .action(async (name: string) => {
      const ctx = getContext();
      await ctx.client().deleteCell(name);
      if (ctx.config.json) printJson(ctx.io, { cell: name, removed: true });
      else printLine(ctx.io, `removed cell ${name}`);
    });

  cell
    .command("ls")
    .description("list the unit's cells (GET /__ctl/Cell)")
    .action(async () => {
      const ctx = getContext();
      const cells = await ctx.client().listCells();
      if (ctx.config.json)
        printJson(
          ctx.io,
          cells.map((c) => ({ name: c.name, ...c.raw })),
        );
      else for (const c of cells) printLine(ctx.io, c.name);
    });
}
