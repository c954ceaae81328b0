/**
 * `export`, `import`, `status`, `cancel`: start a cell's export or import, watch it,
 * read both statuses, cancel an export. Watching polls the documented status
 * resources (spec §3.2, §4.2) — a live bar on a terminal, one line per percent
 * otherwise — and ends with the outcome.
 */

import type { ExportStatusBody, ImportStatusBody } from "@cellport/shared";
import type { Command } from "commander";
import { type ExportOutcome, resolveExportOutcome } from "../client/export-outcome.ts";
import { type CommandContext, sleep } from "../context.ts";
import { InterruptedError, OperationFailedError } from "../errors.ts";
import { printJson, printLine } from "../output/format.ts";
import { createProgress } from "../output/progress-bar.ts";
import { formatBytes, formatDuration } from "../units.ts";
import { cellArgument, durationArgument, snapshotNameArgument } from "./arguments.ts";

type GetContext = () => CommandContext;

const DEFAULT_INTERVAL_MS = 500;

function percentOf(progress: string | undefined): number {
  const value = Number.parseInt(progress ?? "0", 10);
  return Number.isFinite(value) ? value : 0;
}

/** Polls GET `__export` until `name` is no longer in progress. */
async function watchExport(
  ctx: CommandContext,
  cell: string,
  name: string,
  intervalMs: number,
): Promise<void> {
  const client = ctx.client();
  const bar = createProgress(ctx.io.stderr, `export ${cell}/${name}`, { lineStep: 1 });
  const started = Date.now();
  try {
    for (;;) {
      const status: ExportStatusBody = await client.exportStatus(cell);
      if (status.status !== "exportation in progress" || status.exportation_name !== name) break;
      bar.update(percentOf(status.progress) / 100, formatDuration(Date.now() - started));
      await sleep(intervalMs, ctx.signal);
    }
    bar.update(1, formatDuration(Date.now() - started));
    bar.finish();
  } catch (error) {
    bar.finish();
    if (error instanceof InterruptedError) {
      throw new InterruptedError(`stopped watching; the export continues (cellport status ${cell})`);
    }
    throw error;
  }
}

function reportOutcome(ctx: CommandContext, cell: string, outcome: ExportOutcome, elapsedMs: number): void {
  if (ctx.config.json) printJson(ctx.io, { cell, ...outcome, elapsedMs });
  switch (outcome.outcome) {
    case "completed":
      if (!ctx.config.json) {
        printLine(
          ctx.io,
          `snapshot ${outcome.name}.zip  ${formatBytes(outcome.size)} (${outcome.size} bytes)`,
        );
        printLine(ctx.io, `sha256   ${outcome.sha256 ?? "(not reported by this api)"}`);
        printLine(ctx.io, `time     ${formatDuration(elapsedMs)}`);
      }
      return;
    case "failed":
      throw new OperationFailedError(
        outcome.error
          ? `export ${outcome.name} failed: ${outcome.error.code} ${outcome.error.message.value}`
          : `export ${outcome.name} failed`,
        outcome.error?.code,
      );
    case "cancelled":
      throw new OperationFailedError(`export ${outcome.name} was cancelled`);
    case "missing":
      throw new OperationFailedError(`export ${outcome.name} ended without a snapshot or an error file`);
  }
}

async function exportCommand(
  ctx: CommandContext,
  cell: string,
  options: { name?: string; watch?: boolean; interval: number },
): Promise<void> {
  const client = ctx.client();
  const intervalMs = options.interval;
  const started = Date.now();
  await client.startExport(cell, options.name);
  // The status reads "in progress" when the 202 arrives (spec §3.1), so it names the
  // default `{cell}_yyyyMMdd_HHmmss` snapshot; if the export already finished, the
  // newest history entry does.
  let name = options.name;
  if (name === undefined) {
    const status = await client.exportStatus(cell);
    if (status.status === "exportation in progress") name = status.exportation_name;
    else name = (await client.exportHistory(cell))?.find((e) => e.kind === "export")?.name;
  }
  if (name === undefined)
    throw new OperationFailedError(`export of ${cell} accepted, but its name is unknown`);
  if (!options.watch) {
    if (ctx.config.json) printJson(ctx.io, { cell, name, accepted: true });
    else
      printLine(ctx.io, `export of ${cell} accepted: ${name} (cellport status ${cell}, or export --watch)`);
    return;
  }
  await watchExport(ctx, cell, name, intervalMs);
  const outcome = await resolveExportOutcome(client, cell, name, { signal: ctx.signal });
  reportOutcome(ctx, cell, outcome, Date.now() - started);
}

async function importCommand(
  ctx: CommandContext,
  cell: string,
  name: string,
  options: { watch?: boolean; interval: number },
): Promise<void> {
  const client = ctx.client();
  const intervalMs = options.interval;
  const started = Date.now();
  await client.startImport(cell, name);
  if (!options.watch) {
    if (ctx.config.json) printJson(ctx.io, { cell, name, accepted: true });
    else printLine(ctx.io, `import of ${name}.zip into ${cell} accepted (cellport status ${cell})`);
    return;
  }
  const bar = createProgress(ctx.io.stderr, `import ${cell}/${name}`, { lineStep: 1 });
  let final: ImportStatusBody;
  try {
    for (;;) {
      final = await client.importStatus(cell);
      if (final.status !== "importation in progress" || final.importation_name !== name) break;
      bar.update(percentOf(final.progress) / 100, formatDuration(Date.now() - started));
      await sleep(intervalMs, ctx.signal);
    }
  } catch (error) {
    bar.finish();
    if (error instanceof InterruptedError) {
      throw new InterruptedError(`stopped watching; the import continues (cellport status ${cell})`);
    }
    throw error;
  }
  bar.finish();
  if (final.status === "import failed" && final.importation_name === name) {
    throw new OperationFailedError(
      `import ${name} failed: ${final.message.code} ${final.message.message.value}`,
      final.message.code,
    );
  }
  const elapsedMs = Date.now() - started;
  if (ctx.config.json) printJson(ctx.io, { cell, name, outcome: "completed", elapsedMs });
  else printLine(ctx.io, `imported ${name}.zip into ${cell} in ${formatDuration(elapsedMs)}`);
}

function describeExport(status: ExportStatusBody): string {
  if (status.status === "ready") return "ready";
  return `${status.status} ${status.progress} (${status.exportation_name}, accepted ${status.started_at})`;
}

function describeImport(status: ImportStatusBody): string {
  if (status.status === "ready") return "ready";
  const base = `${status.status} ${status.progress} (${status.importation_name}, accepted ${status.started_at})`;
  return status.status === "import failed"
    ? `${base}: ${status.message.code} ${status.message.message.value}`
    : base;
}

async function statusCommand(ctx: CommandContext, cell: string): Promise<void> {
  const client = ctx.client();
  const [exportStatus, importStatus, history] = await Promise.all([
    client.exportStatus(cell),
    client.importStatus(cell),
    client.exportHistory(cell),
  ]);
  const last = history?.[0];
  if (ctx.config.json) {
    printJson(ctx.io, { cell, export: exportStatus, import: importStatus, last: last ?? null });
    return;
  }
  printLine(ctx.io, `export  ${describeExport(exportStatus)}`);
  printLine(ctx.io, `import  ${describeImport(importStatus)}`);
  if (last) {
    const size = last.size === undefined ? "" : `, ${formatBytes(last.size)}`;
    printLine(
      ctx.io,
      `last    ${last.kind} ${last.name} ${last.outcome} at ${last.finishedAt} (${formatDuration(last.durationMs)}${size})`,
    );
  }
}

async function cancelCommand(ctx: CommandContext, cell: string): Promise<void> {
  await ctx.client().cancelExport(cell);
  if (ctx.config.json) printJson(ctx.io, { cell, cancelled: true });
  else printLine(ctx.io, `cancelled the export of ${cell}`);
}

export function registerJobCommands(program: Command, getContext: GetContext): void {
  program
    .command("export")
    .description("start an export of a cell (POST {cell}/__export); --watch follows it to the end")
    .argument("<cell>", "cell name", cellArgument)
    .option("--name <name>", "snapshot name (default {cell}_yyyyMMdd_HHmmss)", snapshotNameArgument)
    .option("-w, --watch", "show progress until the export ends, then its size and sha256")
    .option(
      "--interval <duration>",
      "status poll interval (e.g. 250ms)",
      durationArgument,
      DEFAULT_INTERVAL_MS,
    )
    .action((cell: string, options) => exportCommand(getContext(), cell, options));

  program
    .command("import")
    .description("import __snapshot/{name}.zip into a cell (POST {cell}/__import)")
    .argument("<cell>", "cell name", cellArgument)
    .argument("<name>", "snapshot name, without .zip", snapshotNameArgument)
    .option("-w, --watch", "show progress until the import ends")
    .option(
      "--interval <duration>",
      "status poll interval (e.g. 250ms)",
      durationArgument,
      DEFAULT_INTERVAL_MS,
    )
    .action((cell: string, name: string, options) => importCommand(getContext(), cell, name, options));

  program
    .command("status")
    .description("export and import status of a cell (and its last finished job)")
    .argument("<cell>", "cell name", cellArgument)
    .action((cell: string) => statusCommand(getContext(), cell));

  program
    .command("cancel")
    .description("cancel the cell's queued or running export (DELETE {cell}/__export)")
    .argument("<cell>", "cell name", cellArgument)
    .action((cell: string) => cancelCommand(getContext(), cell));
}
