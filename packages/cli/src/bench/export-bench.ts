/**
 * `bench export`: one generated cell exported through the real worker, beside
 * `zip -r -q -6 -n …` (Info-ZIP, the same deflate level, storing the same compressed
 * formats as they are: COMPRESSED_FORMAT_EXTENSIONS) and `tar -cf` (no compression:
 * the floor of reading the tree) on the same tree, in the same run. Each run starts a
 * fresh worker so its peak RSS and event-loop delay cover one export; the figures
 * reported are medians over `--runs`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMPRESSED_FORMAT_EXTENSIONS } from "@cellport/shared";
import { createClient } from "../client/http-client.ts";
import { sleep } from "../context.ts";
import type { Io } from "../output/format.ts";
import { createProgress } from "../output/progress-bar.ts";
import { openLocalStore, seedLocalCell } from "../seed-local.ts";
import type { SeedProfile } from "../seed-profiles.ts";
import { median } from "../stats.ts";
import { exportAndWait, requireCompleted } from "./export-once.ts";
import { startBenchStack } from "./stack.ts";
import { timeCommand } from "./timed-command.ts";
import { cellTreeDir } from "./tree-dir.ts";

/** `zip -n`'s list: the formats the export stores as they are, so both do the same work. */
const ZIP_STORED_SUFFIXES = COMPRESSED_FORMAT_EXTENSIONS.map((extension) => `.${extension}`).join(":");

export interface ExportBenchRun {
  cellportMs: number;
  /** The worker's own duration for the attempt (history `durationMs`), when reported. */
  workerMs: number | null;
  snapshotBytes: number;
  zipMs: number;
  zipBytes: number;
  tarMs: number;
  tarBytes: number;
  peakRssBytes: number | null;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export interface ExportBenchResult {
  profile: SeedProfile;
  runs: ExportBenchRun[];
  median: ExportBenchRun;
  cpus: number;
}

const CELL = "bench-export";

function medianRun(runs: readonly ExportBenchRun[]): ExportBenchRun {
  const of = (pick: (r: ExportBenchRun) => number | null) => {
    const values = runs.map(pick).filter((v): v is number => v !== null);
    return values.length ? median(values) : null;
  };
  return {
    cellportMs: of((r) => r.cellportMs) ?? Number.NaN,
    workerMs: of((r) => r.workerMs),
    snapshotBytes: of((r) => r.snapshotBytes) ?? Number.NaN,
    zipMs: of((r) => r.zipMs) ?? Number.NaN,
    zipBytes: of((r) => r.zipBytes) ?? Number.NaN,
    tarMs: of((r) => r.tarMs) ?? Number.NaN,
    tarBytes: of((r) => r.tarBytes) ?? Number.NaN,
    peakRssBytes: of((r) => r.peakRssBytes),
    loopDelayP99Ms: of((r) => r.loopDelayP99Ms) ?? Number.NaN,
    loopDelayMaxMs: of((r) => r.loopDelayMaxMs) ?? Number.NaN,
  };
}

export async function runExportBench(options: {
  profile: SeedProfile;
  runs: number;
  seed: string;
  redisUrl: string | undefined;
  io: Io;
  signal: AbortSignal;
  echo?: boolean;
  cpus: number;
}): Promise<ExportBenchResult> {
  const { io } = options;
  io.stderr.write("bench export: starting api…\n");
  const stack = await startBenchStack({ redisUrl: options.redisUrl, echo: options.echo ?? false });
  const scratch = await mkdtemp(join(tmpdir(), "cellport-bench-out-"));
  try {
    const store = openLocalStore(stack.ctx.dataDir, { durable: false });
    const bar = createProgress(io.stderr, `seed ${CELL}`);
    await seedLocalCell(store, {
      cell: CELL,
      profile: options.profile,
      seed: options.seed,
      onProgress: (done, total) => bar.update(total ? done / total : 1),
    }).finally(() => bar.finish());
    const client = createClient({ baseUrl: stack.api.baseUrl, token: async () => stack.ctx.masterToken });
    const tree = cellTreeDir(stack.ctx.dataDir, CELL);

    const runs: ExportBenchRun[] = [];
    for (let i = 1; i <= options.runs; i++) {
      options.signal.throwIfAborted();
      io.stderr.write(`run ${i}/${options.runs}: cellport export…\n`);
      const worker = await stack.addWorker();
      await sleep(500); // let start-up settle before the window opens
      await worker.reset();
      const timed = await exportAndWait(client, CELL, `bench_${i}`, { signal: options.signal });
      const outcome = requireCompleted(CELL, timed);
      const stats = await worker.stats();
      await stack.stopWorkers();
      await client.deleteSnapshot(CELL, `bench_${i}.zip`);

      io.stderr.write(`run ${i}/${options.runs}: zip -r -q -6 -n …, tar -cf…\n`);
      const zipOut = join(scratch, "tree.zip");
      const tarOut = join(scratch, "tree.tar");
      const zip = await timeCommand("zip", ["-r", "-q", "-6", "-n", ZIP_STORED_SUFFIXES, zipOut, "."], {
        cwd: tree,
        output: zipOut,
      });
      await rm(zipOut, { force: true });
      const tar = await timeCommand("tar", ["-cf", tarOut, "."], { cwd: tree, output: tarOut });
      await rm(tarOut, { force: true });

      runs.push({
        cellportMs: timed.ms,
        workerMs: outcome.durationMs ?? null,
        snapshotBytes: outcome.size,
        zipMs: zip.ms,
        zipBytes: zip.outputBytes,
        tarMs: tar.ms,
        tarBytes: tar.outputBytes,
        peakRssBytes: stats.peakRssBytes,
        loopDelayP99Ms: stats.loopDelayMs.p99 ?? Number.NaN,
        loopDelayMaxMs: stats.loopDelayMs.max ?? Number.NaN,
      });
    }
    return { profile: options.profile, runs, median: medianRun(runs), cpus: options.cpus };
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await stack.close();
  }
}
