/**
 * `loadtest`: bounded load against a running api (loopback unless --allow-remote),
 * with a report (JSON, Markdown, SVG) and thresholds that decide the exit code.
 * See loadtest/runner.ts for the model and README.md "Load testing" for usage.
 */

import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Command } from "commander";
import { resolveToken } from "../config.ts";
import type { CommandContext } from "../context.ts";
import { ApiError, InterruptedError, OperationFailedError, UsageError } from "../errors.ts";
import { renderMarkdown, renderSummary } from "../loadtest/markdown.ts";
import { createMetrics } from "../loadtest/metrics.ts";
import { type LoadtestOptions, MIX_KINDS, parseMix, validateLoadtestOptions } from "../loadtest/options.ts";
import type { LoadtestReport, Thresholds } from "../loadtest/report.ts";
import { type PreparedCell, runLoadtest } from "../loadtest/runner.ts";
import { renderSvg } from "../loadtest/svg.ts";
import { printJson, printLine } from "../output/format.ts";
import { createProgress } from "../output/progress-bar.ts";
import { expectedEntryCount, openLocalStore, seedLocalCell } from "../seed-local.ts";
import { profileByName } from "../seed-profiles.ts";
import { formatDuration } from "../units.ts";
import {
  cellListArgument,
  durationArgument,
  integerArgument,
  numberArgument,
  parser,
  profileArgument,
} from "./arguments.ts";

type GetContext = () => CommandContext;

interface LoadtestFlags {
  duration: number;
  exports: number;
  concurrency?: number;
  rate?: number;
  cells?: string[];
  create: number;
  profile: string;
  pollers: number;
  pollInterval: number;
  drainTimeout: number;
  mix: LoadtestOptions["mix"];
  verify: boolean;
  keep?: boolean;
  allowRemote?: boolean;
  seed: number;
  out?: string;
  maxStatusP99Ms?: number;
  maxErrors: number;
  maxLost: number;
}

/** `report.json` → `report.md`, `report.svg` beside it. */
export function sidecarPaths(out: string): { json: string; markdown: string; svg: string } {
  const base = out.replace(/\.json$/i, "");
  return { json: out, markdown: `${base}.md`, svg: `${base}.svg` };
}

async function prepareCells(
  ctx: CommandContext,
  options: LoadtestOptions,
  runId: string,
): Promise<PreparedCell[]> {
  const client = ctx.client();
  const store = openLocalStore(ctx.config.dataDir, { durable: false });
  if (options.cells) {
    const prepared: PreparedCell[] = [];
    for (const name of options.cells) {
      await client.getCell(name); // 404 → exit 3 before any load
      prepared.push({ name, seeded: false, expectedEntries: await expectedEntryCount(store, name) });
    }
    return prepared;
  }
  const prepared: PreparedCell[] = [];
  for (let i = 0; i < options.create; i++) {
    const name = `lt-${runId}-${i + 1}`;
    // Off a terminal, one line per seeded cell is enough.
    const bar = createProgress(ctx.io.stderr, `seed ${name} (${i + 1}/${options.create})`, { lineStep: 100 });
    await seedLocalCell(store, {
      cell: name,
      profile: options.profile,
      seed: `${options.seed}-${i}`,
      onProgress: (done, total) => bar.update(total > 0 ? done / total : 1),
    }).finally(() => bar.finish());
    prepared.push({ name, seeded: true, expectedEntries: await expectedEntryCount(store, name) });
    try {
      await client.getCell(name);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        throw new UsageError(
          `the api at ${ctx.config.url} does not see cells seeded into ${ctx.config.dataDir}: ` +
            "run it with the same CELLPORT_DATA_DIR, or pass --cells with existing cells",
        );
      }
      throw error;
    }
  }
  return prepared;
}

async function removeSeededCells(ctx: CommandContext, cells: PreparedCell[]): Promise<void> {
  for (const cell of cells.filter((c) => c.seeded)) {
    await ctx
      .client()
      .deleteCell(cell.name)
      .catch((error: unknown) => {
        ctx.io.stderr.write(
          `could not remove ${cell.name}: ${error instanceof Error ? error.message : error}\n`,
        );
      });
  }
}

async function writeReports(out: string, report: LoadtestReport): Promise<void> {
  const paths = sidecarPaths(out);
  await mkdir(dirname(paths.json), { recursive: true });
  await writeFile(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(paths.markdown, renderMarkdown(report));
  const title = `cellport loadtest ${report.startedAt} — ${report.verdict.pass ? "PASS" : "FAIL"}`;
  await writeFile(paths.svg, renderSvg(report.timeline, title));
}

async function loadtestCommand(ctx: CommandContext, flags: LoadtestFlags): Promise<void> {
  const options = validateLoadtestOptions({
    url: ctx.config.url,
    durationMs: flags.duration,
    maxExports: flags.exports,
    concurrency: flags.concurrency,
    rate: flags.rate,
    cells: flags.cells,
    create: flags.create,
    profile: profileByName(flags.profile),
    pollers: flags.pollers,
    pollIntervalMs: flags.pollInterval,
    drainTimeoutMs: flags.drainTimeout,
    mix: flags.mix,
    verify: flags.verify,
    keep: flags.keep ?? false,
    allowRemote: flags.allowRemote ?? false,
    seed: flags.seed,
  });
  const thresholds: Thresholds = {
    maxStatusP99Ms: flags.maxStatusP99Ms,
    maxErrors: flags.maxErrors,
    maxLost: flags.maxLost,
  };
  await resolveToken(ctx.config); // fail on credentials before seeding anything
  const runId = randomBytes(3).toString("hex");
  const cells = await prepareCells(ctx, options, runId);

  const startedAt = Date.now();
  const metrics = createMetrics(startedAt);
  const client = ctx.client({ onSample: (sample) => metrics.sample(sample) });
  const bar = createProgress(ctx.io.stderr, "loadtest", { lineStep: 10 });
  let report: LoadtestReport;
  try {
    report = await runLoadtest(options, thresholds, {
      client,
      metrics,
      cells,
      signal: ctx.signal,
      startedAt,
      onTick: (live) => {
        const byTime = live.elapsedMs / options.durationMs;
        const byCount = live.launched / options.maxExports;
        const p99 = Number.isFinite(live.statusP99) ? `${live.statusP99.toFixed(1)} ms` : "–";
        bar.update(
          Math.min(1, Math.max(byTime, byCount)),
          `${formatDuration(live.elapsedMs)}  launched ${live.launched}  in flight ${live.inFlight}  ` +
            `done ${live.finished}  status p99 ${p99}  errors ${live.errors}`,
        );
      },
    });
  } finally {
    bar.finish();
    if (!options.keep) await removeSeededCells(ctx, cells);
  }

  if (flags.out) await writeReports(flags.out, report);
  if (ctx.config.json) printJson(ctx.io, report);
  else {
    printLine(ctx.io, renderSummary(report));
    if (flags.out) {
      const paths = sidecarPaths(flags.out);
      printLine(ctx.io, `report: ${paths.json}, ${paths.markdown}, ${paths.svg}`);
    }
  }
  if (ctx.signal.aborted) throw new InterruptedError("interrupted: the report above covers the run so far");
  if (!report.verdict.pass) {
    throw new OperationFailedError(`loadtest failed: ${report.verdict.failures.join("; ")}`);
  }
}

const mixArgument = parser(parseMix);
const rateArgument = numberArgument("--rate", 0.01, 10_000);

export function registerLoadtestCommand(program: Command, getContext: GetContext): void {
  program
    .command("loadtest")
    .description("bounded export load against a running api, with a verified-snapshot report and thresholds")
    .option("--duration <duration>", "stop starting exports after this long", durationArgument, 30_000)
    .option("--exports <n>", "stop after starting this many exports", integerArgument("--exports", 1), 100)
    .option(
      "--concurrency <n>",
      "closed model: exports in flight at all times (default 2)",
      integerArgument("--concurrency", 1, 10_000),
    )
    .option("--rate <r>", "open model: exports started per second", rateArgument)
    .option(
      "--cells <list>",
      "use these existing cells (comma-separated) instead of seeding",
      cellListArgument,
    )
    .option(
      "--create <k>",
      "cells to seed into the local data dir",
      integerArgument("--create", 1, 10_000),
      3,
    )
    .option(
      "--profile <name>",
      "size profile of seeded cells (tiny, small, medium, large)",
      profileArgument,
      "small",
    )
    .option(
      "--pollers <p>",
      "status pollers beside the exports' own polling",
      integerArgument("--pollers", 0, 1_000),
      2,
    )
    .option("--poll-interval <duration>", "pause between two polls of one poller", durationArgument, 200)
    .option(
      "--drain-timeout <duration>",
      "after the load: how long an export may still take before it counts as stuck",
      durationArgument,
      60_000,
    )
    .option(
      "--mix <list>",
      `probes during each export: ${MIX_KINDS.join(", ")}, all or none`,
      mixArgument,
      [],
    )
    .option("--no-verify", "skip downloading and verifying every snapshot")
    .option("--keep", "keep seeded cells and snapshots")
    .option("--allow-remote", "allow a target that is not a loopback address")
    .option("--seed <n>", "PRNG seed of the seeded cells", integerArgument("--seed", 0), 1)
    .option("--out <file>", "write the report as JSON, plus .md and .svg beside it")
    .option(
      "--max-status-p99-ms <ms>",
      "fail when the status p99 exceeds this",
      numberArgument("--max-status-p99-ms", 0, 1e9),
    )
    .option(
      "--max-errors <n>",
      "fail when more unexpected errors occur",
      integerArgument("--max-errors", 0),
      0,
    )
    .option("--max-lost <n>", "fail when more exports are lost or stuck", integerArgument("--max-lost", 0), 0)
    .action((flags: LoadtestFlags) => loadtestCommand(getContext(), flags));
}
