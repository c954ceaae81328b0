/**
 * `bench export|status|flow`: figures beside a baseline measured in the same run.
 * Benchmarks are not tests: they exit 0 whatever they measure (and 1 only when they
 * could not measure). Each starts its own api + worker processes against the
 * configured Redis under a unique prefix, with a temp data dir.
 */
import { availableParallelism } from "node:os";
import type { Command } from "commander";
import { runExportBench } from "../bench/export-bench.ts";
import {
  DEFAULT_FLOWS,
  DEFAULT_GIVE_UP_AFTER_MS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_WARMUP_EXPORTS,
  runFlowBench,
} from "../bench/flow-bench.ts";
import { renderExportBench, renderFlowBench, renderStatusBench } from "../bench/render.ts";
import { runStatusBench } from "../bench/status-bench.ts";
import type { CommandContext } from "../context.ts";
import { printJson, printLine } from "../output/format.ts";
import {
  durationArgument,
  integerArgument,
  numberArgument,
  profileArgument,
  sizeArgument,
} from "./arguments.ts";
import { resolveSeedProfile } from "./seed.ts";

type GetContext = () => CommandContext;

interface ProfileFlags {
  profile: string;
  files?: number;
  size?: number;
  textRatio?: number;
  verbose?: boolean;
}

function withProfileFlags(command: Command, defaultProfile: string): Command {
  return command
    .option("--profile <name>", "size profile (tiny, small, medium, large)", profileArgument, defaultProfile)
    .option("--files <n>", "files in the cell", integerArgument("--files", 1))
    .option("--size <size>", "total file bytes, e.g. 50MB", sizeArgument)
    .option("--text-ratio <ratio>", "share of compressible text", numberArgument("--text-ratio", 0, 1))
    .option("--verbose", "echo the api and worker output");
}

function profileOf(flags: ProfileFlags) {
  return resolveSeedProfile({
    profile: flags.profile,
    files: flags.files,
    size: flags.size,
    textRatio: flags.textRatio,
  });
}

export function registerBenchCommands(program: Command, getContext: GetContext): void {
  const bench = program
    .command("bench")
    .description("benchmarks: figures beside a baseline from the same run");
  const cpus = availableParallelism();

  withProfileFlags(
    bench
      .command("export")
      .description("export a generated cell (default ~2,000 files, ~200 MB) vs zip -r -6 and tar -cf"),
    "large",
  )
    .option("--runs <n>", "repeat and report medians", integerArgument("--runs", 1, 100), 1)
    .action(async (flags: ProfileFlags & { runs: number }) => {
      const ctx = getContext();
      const result = await runExportBench({
        profile: profileOf(flags),
        runs: flags.runs,
        seed: "bench",
        redisUrl: ctx.config.redisUrl,
        io: ctx.io,
        signal: ctx.signal,
        echo: flags.verbose ?? false,
        cpus,
      });
      if (ctx.config.json) printJson(ctx.io, result);
      else printLine(ctx.io, renderExportBench(result));
    });

  withProfileFlags(
    bench
      .command("status")
      .description("GET __export under autocannon while 2 exports run, vs a bare node:http baseline"),
    "medium",
  )
    .option("--connections <n>", "autocannon connections", integerArgument("--connections", 1, 10_000), 50)
    .option(
      "--seconds <n>",
      "seconds of load per side (cellport api, baseline), in up to 5 alternating slices",
      integerArgument("--seconds", 1, 3_600),
      10,
    )
    .action(async (flags: ProfileFlags & { connections: number; seconds: number }) => {
      const ctx = getContext();
      const result = await runStatusBench({
        profile: profileOf(flags),
        connections: flags.connections,
        durationSeconds: flags.seconds,
        redisUrl: ctx.config.redisUrl,
        io: ctx.io,
        signal: ctx.signal,
        echo: flags.verbose ?? false,
        cpus,
      });
      if (ctx.config.json) printJson(ctx.io, result);
      else printLine(ctx.io, renderStatusBench(result));
    });

  bench
    .command("flow")
    .description("tiny exports per second with 1 and 2 worker processes; a queued drain with none lost")
    // 1,000 by default: each round starts fresh worker processes, whose first second
    // (JIT warm-up, the store thread's start) would weigh on a shorter round.
    .option("--cells <n>", "tiny cells exported per round", integerArgument("--cells", 1, 100_000), 1_000)
    .option(
      "--flows <n>",
      "closed-loop flows per round (each: start an export, poll until ready, next cell)",
      integerArgument("--flows", 1, 1_000),
      DEFAULT_FLOWS,
    )
    .option(
      "--warmup <n>",
      "exports before each round's clock starts, not counted (fresh workers first compile their hot code)",
      integerArgument("--warmup", 0, 100_000),
      DEFAULT_WARMUP_EXPORTS,
    )
    .option(
      "--poll-interval <duration>",
      "pause before each status poll of a flow",
      durationArgument,
      DEFAULT_POLL_INTERVAL_MS,
    )
    .option(
      "--drain <n>",
      "exports queued at once for the drain",
      integerArgument("--drain", 1, 100_000),
      1_000,
    )
    .option(
      "--worker-concurrency <n>",
      "jobs each worker process runs at once (CELLPORT_WORKER_CONCURRENCY)",
      integerArgument("--worker-concurrency", 1, 64),
    )
    .option(
      "--give-up-after <duration>",
      "stop waiting for an export still in progress this long after its POST, or for a drain in which none finished this long (reported as not completed)",
      durationArgument,
      DEFAULT_GIVE_UP_AFTER_MS,
    )
    .option("--verbose", "echo the api and worker output")
    .action(
      async (flags: {
        cells: number;
        flows: number;
        warmup: number;
        pollInterval: number;
        drain: number;
        giveUpAfter: number;
        workerConcurrency?: number;
        verbose?: boolean;
      }) => {
        const ctx = getContext();
        const result = await runFlowBench({
          cells: flags.cells,
          flows: flags.flows,
          warmup: flags.warmup,
          pollIntervalMs: flags.pollInterval,
          drain: flags.drain,
          giveUpAfterMs: flags.giveUpAfter,
          ...(flags.workerConcurrency ? { workerConcurrency: flags.workerConcurrency } : {}),
          workerCounts: [1, 2],
          redisUrl: ctx.config.redisUrl,
          io: ctx.io,
          signal: ctx.signal,
          echo: flags.verbose ?? false,
          cpus,
        });
        if (ctx.config.json) printJson(ctx.io, result);
        else printLine(ctx.io, renderFlowBench(result));
      },
    );
}
