/**
 * `snapshots ls|get|put|rm`: the cell's snapshot area (spec §6). Transfers stream
 * with a progress bar; `get` resumes an interrupted download and verifies the sha256
 * when it is known (`--sha256`, or the export history of a `.zip`).
 */
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { findHistoryEntry } from "../client/export-outcome.ts";
import { downloadSnapshotFile, uploadSnapshotFile } from "../client/transfer.ts";
import type { CommandContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { formatTable, printJson, printLine } from "../output/format.ts";
import { createProgress, transferDetail } from "../output/progress-bar.ts";
import { formatBytes } from "../units.ts";
import { cellArgument, fileNameArgument, parser } from "./arguments.ts";

type GetContext = () => CommandContext;

const sha256Argument = parser((text: string) => {
  if (!/^[0-9a-f]{64}$/i.test(text))
    throw new UsageError(`Expected a sha256 of 64 hex digits, got \`${text}\``);
  return text.toLowerCase();
});

async function knownSha256(ctx: CommandContext, cell: string, file: string): Promise<string | undefined> {
  if (!file.endsWith(".zip")) return undefined;
  const history = await ctx.client().exportHistory(cell);
  const entry = history ? findHistoryEntry(history, "export", file.slice(0, -4)) : undefined;
  return entry?.outcome === "completed" ? entry.sha256 : undefined;
}

export function registerSnapshotCommands(program: Command, getContext: GetContext): void {
  const snapshots = program
    .command("snapshots")
    .description("list, download, upload and remove snapshot files");

  snapshots
    .command("ls")
    .description("list a cell's snapshot files (PROPFIND {cell}/__snapshot)")
    .argument("<cell>", "cell name", cellArgument)
    .action(async (cell: string) => {
      const ctx = getContext();
      const files = await ctx.client().listSnapshots(cell);
      if (ctx.config.json) {
        printJson(ctx.io, files);
        return;
      }
      if (files.length === 0) {
        printLine(ctx.io, `no snapshots in ${cell}`);
        return;
      }
      printLine(
        ctx.io,
        formatTable(
          ["name", "size", "bytes", "modified"],
          files.map((f) => [f.name, formatBytes(f.size), f.size, f.modified ?? ""]),
          new Set([1]),
        ),
      );
    });

  snapshots
    .command("get")
    .description("download a snapshot file (resumes a partial download; checks the sha256 when known)")
    .argument("<cell>", "cell name", cellArgument)
    .argument("<file>", "file name in the snapshot area, e.g. c1_20240101_000000.zip", fileNameArgument)
    .option("-o, --output <path>", "where to write it (default: ./<file>)")
    .option("--sha256 <hex>", "expected sha256 (default: from the export history)", sha256Argument)
    .option("--no-resume", "start over instead of resuming <output>.part")
    .action(
      async (cell: string, file: string, options: { output?: string; sha256?: string; resume: boolean }) => {
        const ctx = getContext();
        const dest = resolve(options.output ?? basename(file));
        const expected = options.sha256 ?? (await knownSha256(ctx, cell, file));
        const bar = createProgress(ctx.io.stderr, `get ${file}`);
        const started = Date.now();
        const result = await downloadSnapshotFile(ctx.client(), cell, file, dest, {
          resume: options.resume,
          expectedSha256: expected,
          signal: ctx.signal,
          onProgress: (done, total) =>
            bar.update(
              total ? done / total : 0,
              transferDetail(done, total, Date.now() - started, formatBytes),
            ),
        }).finally(() => bar.finish());
        const verified = expected !== undefined;
        if (ctx.config.json) {
          printJson(ctx.io, { cell, file, ...result, verified });
          return;
        }
        const resumed = result.resumedFrom > 0 ? ` (resumed at ${formatBytes(result.resumedFrom)})` : "";
        printLine(ctx.io, `saved ${result.path}  ${formatBytes(result.size)}${resumed}`);
        printLine(
          ctx.io,
          `sha256 ${result.sha256} ${verified ? "(verified)" : "(not verified: no known checksum)"}`,
        );
      },
    );

  snapshots
    .command("put")
    .description("upload a file into the snapshot area (PUT {cell}/__snapshot/{file})")
    .argument("<cell>", "cell name", cellArgument)
    .argument("<path>", "local file")
    .option(
      "--name <file>",
      "file name in the snapshot area (default: the local file's name)",
      fileNameArgument,
    )
    .option("--content-type <type>", "stored content type", "application/zip")
    .action(async (cell: string, path: string, options: { name?: string; contentType: string }) => {
      const ctx = getContext();
      const file = options.name ?? fileNameArgument(basename(path));
      const bar = createProgress(ctx.io.stderr, `put ${file}`);
      const started = Date.now();
      const result = await uploadSnapshotFile(ctx.client(), cell, file, resolve(path), {
        contentType: options.contentType,
        onProgress: (done, total) =>
          bar.update(
            total ? done / total : 1,
            transferDetail(done, total, Date.now() - started, formatBytes),
          ),
      }).finally(() => bar.finish());
      if (ctx.config.json) {
        printJson(ctx.io, { cell, file, ...result });
        return;
      }
      printLine(
        ctx.io,
        `${result.created ? "created" : "replaced"} ${file}  ${formatBytes(result.size)}  ETag ${result.etag ?? "?"}`,
      );
      printLine(ctx.io, `sha256 ${result.sha256}`);
    });

  snapshots
    .command("rm")
    .description("remove a snapshot file")
    .argument("<cell>", "cell name", cellArgument)
    .argument("<file>", "file name in the snapshot area", fileNameArgument)
    .action(async (cell: string, file: string) => {
      const ctx = getContext();
      await ctx.client().deleteSnapshot(cell, file);
      if (ctx.config.json) printJson(ctx.io, { cell, file, removed: true });
      else printLine(ctx.io, `removed ${file} from ${cell}`);
    });
}
