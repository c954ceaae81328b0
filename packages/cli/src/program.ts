/**
 * The `cellport` command line: global flags, one module per command group, and the
 * single place that turns any failure into one line on stderr and an exit code
 * (errors.ts documents the codes).
 */
import { Command, CommanderError } from "commander";
import { registerBenchCommands } from "./commands/bench.ts";
import { registerCellCommands } from "./commands/cell.ts";
import { registerJobCommands } from "./commands/jobs.ts";
import { registerLoadtestCommand } from "./commands/loadtest.ts";
import { registerSeedCommand } from "./commands/seed.ts";
import { registerSnapshotCommands } from "./commands/snapshots.ts";
import { registerTokenCommand } from "./commands/token.ts";
import { type GlobalFlags, loadCliConfig } from "./config.ts";
import { type CommandContext, createContext } from "./context.ts";
import { EXIT, errorLine, exitCodeOf } from "./errors.ts";
import type { Io } from "./output/format.ts";

export interface ProgramDeps {
  env: Record<string, string | undefined>;
  io: Io;
  signal: AbortSignal;
}

const EXIT_CODE_HELP = `
Exit codes:
  0    success
  1    the server or the operation failed (5xx, export/import failed, auth, network, loadtest thresholds)
  2    usage error (bad command line, or a 400 answer to what was sent)
  3    not found (cell, snapshot, nothing to cancel)
  4    conflict / busy (409: the cell is exporting or importing, or already exists; 412)
  130  interrupted (Ctrl-C)

Environment: CELLPORT_URL, CELLPORT_TOKEN, CELLPORT_DATA_DIR, CELLPORT_TOKEN_SECRET, REDIS_URL.
Without --token / CELLPORT_TOKEN the master token is read from {CELLPORT_DATA_DIR}/secrets.json.`;

export function createProgram(deps: ProgramDeps): Command {
  const { io } = deps;
  let context: CommandContext | undefined;
  const getContext = (): CommandContext => {
    if (!context) throw new Error("command context used before the command ran");
    return context;
  };

  const output = {
    writeOut: (text: string) => io.stdout.write(text),
    writeErr: (text: string) => io.stderr.write(text),
    // Same one-line shape as every other failure: `cellport: <message>`.
    outputError: (text: string, write: (text: string) => void) =>
      write(`cellport: ${text.replace(/^error: /, "")}`),
  };
  const program = new Command("cellport")
    .description(
      "Export, import and snapshot Personium cells on a cellport api; seed, load-test and benchmark it",
    )
    .option("--url <url>", "api base URL (env CELLPORT_URL, default http://localhost:8080/)")
    .option("--token <token>", "bearer token (env CELLPORT_TOKEN; default: the master token in the data dir)")
    .option(
      "--data-dir <dir>",
      "local data dir for seed, token and loadtest (env CELLPORT_DATA_DIR, default ./.data)",
    )
    .option("--json", "machine-readable output on stdout")
    .showSuggestionAfterError()
    .addHelpText("after", EXIT_CODE_HELP)
    .configureOutput(output)
    .exitOverride();

  program.hook("preAction", (_program, action) => {
    context = createContext(loadCliConfig(deps.env, action.optsWithGlobals<GlobalFlags>()), io, deps.signal);
  });

  registerSeedCommand(program, getContext);
  registerTokenCommand(program, getContext);
  registerCellCommands(program, getContext);
  registerJobCommands(program, getContext);
  registerSnapshotCommands(program, getContext);
  registerLoadtestCommand(program, getContext);
  registerBenchCommands(program, getContext);

  // Subcommands inherit output handling and the usage-error convention.
  const configure = (command: Command) => {
    for (const sub of command.commands) {
      sub.exitOverride().configureOutput(output);
      configure(sub);
    }
  };
  configure(program);
  return program;
}

/** Runs one command line; resolves with the process exit code. Never throws. */
export async function runCli(argv: readonly string[], deps: ProgramDeps): Promise<number> {
  const program = createProgram(deps);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (or the help). Help asked for is success;
      // anything else it refuses is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    deps.io.stderr.write(`cellport: ${errorLine(error)}\n`);
    return exitCodeOf(error);
  }
}
