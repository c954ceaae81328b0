/**
 * `seed <cell>`: generates a cell with data straight into the local store at
 * `CELLPORT_DATA_DIR` (no api needed). Start from a profile, override any part.
 */
import type { Command } from "commander";
import type { CommandContext } from "../context.ts";
import { printJson, printLine } from "../output/format.ts";
import { createProgress, transferDetail } from "../output/progress-bar.ts";
import { openLocalStore, seedLocalCell } from "../seed-local.ts";
import { PROFILES, profileByName, type SeedProfile } from "../seed-profiles.ts";
import { formatBytes, formatDuration } from "../units.ts";
import { cellArgument, integerArgument, numberArgument, profileArgument, sizeArgument } from "./arguments.ts";

type GetContext = () => CommandContext;

interface SeedFlags {
  profile: string;
  boxes?: number;
  entities?: number;
  files?: number;
  size?: number;
  textRatio?: number;
  seed?: string;
  replace?: boolean;
  fsync: boolean;
}

/** The profile, with each given flag overriding its part. */
export function resolveSeedProfile(flags: Omit<SeedFlags, "seed" | "replace" | "fsync">): SeedProfile {
  const profile = profileByName(flags.profile);
  if (flags.boxes !== undefined) profile.boxes = flags.boxes;
  if (flags.entities !== undefined) profile.entitiesPerType = flags.entities;
  if (flags.files !== undefined) profile.files = flags.files;
  if (flags.size !== undefined) profile.bytes = flags.size;
  if (flags.textRatio !== undefined) profile.textRatio = flags.textRatio;
  return profile;
}

async function seedCommand(ctx: CommandContext, cell: string, flags: SeedFlags): Promise<void> {
  const profile = resolveSeedProfile(flags);
  const store = openLocalStore(ctx.config.dataDir, { durable: flags.fsync });
  const bar = createProgress(ctx.io.stderr, `seed ${cell}`);
  const started = Date.now();
  const result = await seedLocalCell(store, {
    cell,
    profile,
    seed: flags.seed ?? cell,
    replace: flags.replace ?? false,
    onProgress: (done, total) =>
      bar.update(
        total > 0 ? done / total : 1,
        transferDetail(done, total, Date.now() - started, formatBytes),
      ),
  }).finally(() => bar.finish());
  if (ctx.config.json) {
    printJson(ctx.io, { ...result, dataDir: ctx.config.dataDir });
    return;
  }
  const entities = Object.values(result.entities).reduce((a, b) => a + b, 0);
  printLine(
    ctx.io,
    `seeded ${cell} in ${ctx.config.dataDir}: ${result.files} files (${formatBytes(result.bytes)}, ` +
      `${formatBytes(result.textBytes)} text), ${result.boxes} boxes, ${result.collections} collections, ` +
      `${entities} entities in ${formatDuration(result.durationMs)}`,
  );
}

export function registerSeedCommand(program: Command, getContext: GetContext): void {
  program
    .command("seed")
    .description("generate a cell with boxes, entities and files straight into the local data dir")
    .argument("<cell>", "cell name", cellArgument)
    .option(
      "--profile <name>",
      `starting point: ${Object.keys(PROFILES).join(", ")}`,
      profileArgument,
      "small",
    )
    .option("--boxes <n>", "boxes besides the main box", integerArgument("--boxes", 0, 10_000))
    .option("--entities <n>", "documents per entity type", integerArgument("--entities", 0, 10_000_000))
    .option("--files <n>", "files in the boxes' trees", integerArgument("--files", 0, 10_000_000))
    .option("--size <size>", "total file bytes, e.g. 30MB, 1GB", sizeArgument)
    .option(
      "--text-ratio <ratio>",
      "share of compressible text, 0..1 or 50%",
      numberArgument("--text-ratio", 0, 1),
    )
    .option("--seed <seed>", "PRNG seed: same seed, same cell (default: the cell name)")
    .option("--replace", "replace the content of an existing cell (its snapshots stay)")
    .option("--no-fsync", "skip fsync (throwaway data: faster)")
    .addHelpText("after", `\nProfiles:\n${profileHelp()}`)
    .action((cell: string, flags: SeedFlags) => seedCommand(getContext(), cell, flags));
}

function profileHelp(): string {
  return Object.entries(PROFILES)
    .map(
      ([name, p]) =>
        `  ${name.padEnd(7)} ${p.boxes} boxes, ${p.entitiesPerType} entities/type, ${p.files} files, ${formatBytes(p.bytes)}`,
    )
    .join("\n");
}
