/**
 * `bench flow`: end-to-end throughput of tiny exports (POST → ready, per second)
 * with 1 and with 2 worker processes, then a drain: many exports queued at once
 * (one per cell: the queue deduplicates per cell), all of which must complete —
 * none lost.
 *
 * The rounds are closed-loop, as clients use the API: each of `flows` flows
 * starts an export, polls its status every `pollIntervalMs` until it is ready,
 * then takes the next cell. Enough flows keep every worker busy; the client's
 * own polling stays proportional to the exports (it shares the machine's cores).
 * A flow finishes at most one export per poll interval, so `flows` ÷ interval caps
 * the round: 16 flows at 50 ms stopped at ~290/s, reached by 1 worker on a fast
 * machine, hiding the second; 32 measured 330–400/s there with 2 workers. On a
 * slower, CPU-bound machine 24 did no worse than 16 (both kept ~1.75 cores busy).
 *
 * Each round measures steady state, as long-running workers serve it: it starts
 * fresh worker processes, which spend their first seconds compiling their hot code
 * (V8's optimizing compiler took ~5% of the machine in a 1,000-export round), so a
 * warm-up of `warmup` exports runs first, under another snapshot name, uncounted.
 */

import { createRedisClient } from "@cellport/queue";
import type { ExportStatusBody } from "@cellport/shared";
import { Redis } from "ioredis";
import { findHistoryEntry } from "../client/export-outcome.ts";
import { type CellportClient, createClient } from "../client/http-client.ts";
import { sleep } from "../context.ts";
import type { Io } from "../output/format.ts";
import { createProgress } from "../output/progress-bar.ts";
import { mapLimit } from "../parallel.ts";
import { openLocalStore, seedLocalCell } from "../seed-local.ts";
import type { SeedProfile } from "../seed-profiles.ts";
import { type Summary, summarize } from "../stats.ts";
import { type CpuPerExport, cpuPerExport, sampleCpu } from "./cpu-meter.ts";
import { type BenchStack, startBenchStack } from "./stack.ts";

/** The smallest cell worth exporting: the fixed costs (queue, zip, rename) dominate. */
export const FLOW_PROFILE: SeedProfile = {
  boxes: 0,
  entitiesPerType: 1,
  files: 2,
  bytes: 4096,
  textRatio: 0.5,
};

const PARALLEL_REQUESTS = 16;

export const DEFAULT_FLOWS = 32;
export const DEFAULT_WARMUP_EXPORTS = 200;
export const DEFAULT_POLL_INTERVAL_MS = 50;
/**
 * A tiny export takes milliseconds: one still in progress this long after its POST
 * (a flow), or a drain in which nothing finished for this long, is stuck. The bench
 * stops waiting for it and reports it among the exports not completed, instead of
 * hanging.
 */
export const DEFAULT_GIVE_UP_AFTER_MS = 60_000;

export interface FlowRound {
  workers: number;
  /** Exports run before the round's clock and CPU meter started (not counted). */
  warmupExports: number;
  flows: number;
  pollIntervalMs: number;
  /** Status requests per export (the ready one included). */
  pollsPerExport: number;
  exports: number;
  ms: number;
  perSecond: number;
  timeToReadyMs: Summary;
  notCompleted: number;
  /** CPU each export cost, by process kind, over the round. */
  cpuMsPerExport: CpuPerExport;
}

export interface FlowBenchResult {
  rounds: FlowRound[];
  drain: { exports: number; workers: number; ms: number; perSecond: number; completed: number; lost: number };
  cpus: number;
}

/** `flows` closed-loop flows over `cells`: start an export, poll until ready, next cell. */
export async function runFlows(
  client: CellportClient,
  cells: readonly string[],
  name: string,
  options: { flows: number; pollIntervalMs: number; giveUpAfterMs: number; signal: AbortSignal },
  io: Io,
  label: string,
): Promise<{ ms: number; timeToReady: number[]; polls: number }> {
  const bar = createProgress(io.stderr, label);
  const timeToReady: number[] = [];
  let polls = 0;
  let done = 0;
  const started = performance.now();
  await mapLimit(cells, options.flows, async (cell) => {
    const postedAt = performance.now();
    await client.startExport(cell, name);
    for (;;) {
      await sleep(options.pollIntervalMs);
      options.signal.throwIfAborted();
      polls++;
      if (!isExporting(await client.exportStatus(cell), name)) {
        timeToReady.push(performance.now() - postedAt);
        break;
      }
      // Stuck: counted as not completed when the round is tallied.
      if (performance.now() - postedAt > options.giveUpAfterMs) break;
    }
    done++;
    bar.update(done / cells.length, `${done}/${cells.length}`);
  });
  bar.finish();
  return { ms: performance.now() - started, timeToReady, polls };
}

/**
 * Queues one export per cell at once, then polls until every one is ready, or until
 * none has finished for `giveUpAfterMs` (the rest are stuck: counted as lost).
 */
export async function drainAll(
  client: CellportClient,
  cells: readonly string[],
  name: string,
  options: { giveUpAfterMs: number; signal: AbortSignal },
  io: Io,
  label: string,
): Promise<{ ms: number }> {
  const started = performance.now();
  await mapLimit(cells, PARALLEL_REQUESTS, (cell) => client.startExport(cell, name));
  const pending = new Set(cells);
  const bar = createProgress(io.stderr, label);
  let lastFinishedAt = performance.now();
  while (pending.size > 0 && performance.now() - lastFinishedAt <= options.giveUpAfterMs) {
    options.signal.throwIfAborted();
    const before = pending.size;
    await mapLimit([...pending], PARALLEL_REQUESTS, async (cell) => {
      if (!isExporting(await client.exportStatus(cell), name)) pending.delete(cell);
    });
    if (pending.size < before) lastFinishedAt = performance.now();
    bar.update(
      (cells.length - pending.size) / cells.length,
      `${cells.length - pending.size}/${cells.length}`,
    );
    if (pending.size > 0) await sleep(100);
  }
  bar.finish();
  return { ms: performance.now() - started };
}

/** Deletes the snapshot `name` of each cell, where there is one (frees the name and the disk). */
async function deleteSnapshots(
  client: CellportClient,
  cells: readonly string[],
  name: string,
): Promise<void> {
  await mapLimit(cells, PARALLEL_REQUESTS, (cell) =>
    client.deleteSnapshot(cell, `${name}.zip`).catch(() => {}),
  );
}

function isExporting(status: ExportStatusBody, name: string): boolean {
  return status.status === "exportation in progress" && status.exportation_name === name;
}

/** How many of `cells` hold a completed export `name` (history, else the snapshot itself). */
async function countCompleted(
  client: CellportClient,
  cells: readonly string[],
  name: string,
): Promise<number> {
  const outcomes = await mapLimit(cells, PARALLEL_REQUESTS, async (cell) => {
    const history = await client.exportHistory(cell);
    const entry = history ? findHistoryEntry(history, "export", name) : undefined;
    if (entry) return entry.outcome === "completed";
    return (await client.statSnapshot(cell, `${name}.zip`)) !== null;
  });
  return outcomes.filter(Boolean).length;
}

export async function runFlowBench(options: {
  cells: number;
  drain: number;
  workerCounts: readonly number[];
  /** Closed-loop flows in the 1- and 2-worker rounds. */
  flows?: number;
  /** Uncounted exports before each round (see the header); default DEFAULT_WARMUP_EXPORTS. */
  warmup?: number;
  pollIntervalMs?: number;
  /** Stops waiting for a stuck export (see DEFAULT_GIVE_UP_AFTER_MS). */
  giveUpAfterMs?: number;
  /** CELLPORT_WORKER_CONCURRENCY of each worker; unset keeps the worker's default. */
  workerConcurrency?: number;
  redisUrl: string | undefined;
  io: Io;
  signal: AbortSignal;
  echo?: boolean;
  cpus: number;
}): Promise<FlowBenchResult> {
  const { io } = options;
  io.stderr.write("bench flow: starting api…\n");
  const stack = await startBenchStack({ redisUrl: options.redisUrl, echo: options.echo ?? false });
  const redis = createRedisClient(stack.ctx.redisUrl, { maxRetriesPerRequest: 1 });
  // Redis's own CPU figure; a cluster's is spread over its nodes and left out.
  const cpu = () => sampleCpu({ ...pidsOf(stack), redis: redis instanceof Redis ? redis : null });
  try {
    const store = openLocalStore(stack.ctx.dataDir, { durable: false });
    const total = Math.max(options.cells, options.drain);
    const names = Array.from({ length: total }, (_, i) => `flow-${i + 1}`);
    const bar = createProgress(io.stderr, `seed ${total} tiny cells`);
    let seeded = 0;
    await mapLimit(names, 4, async (cell) => {
      options.signal.throwIfAborted();
      await seedLocalCell(store, { cell, profile: FLOW_PROFILE, seed: cell });
      bar.update(++seeded / total, `${seeded}/${total}`);
    });
    bar.finish();
    const client = createClient({ baseUrl: stack.api.baseUrl, token: async () => stack.ctx.masterToken });

    const workerEnv: Record<string, string> = options.workerConcurrency
      ? { CELLPORT_WORKER_CONCURRENCY: String(options.workerConcurrency) }
      : {};
    const flowOptions = {
      flows: options.flows ?? DEFAULT_FLOWS,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    };
    const giveUpAfterMs = options.giveUpAfterMs ?? DEFAULT_GIVE_UP_AFTER_MS;
    const rounds: FlowRound[] = [];
    const cells = names.slice(0, options.cells);
    for (const workers of options.workerCounts) {
      options.signal.throwIfAborted();
      for (let i = stack.workers.length; i < workers; i++) await stack.addWorker(workerEnv);
      const name = `flow_w${workers}`;
      const warmupCells = cells.slice(0, options.warmup ?? DEFAULT_WARMUP_EXPORTS);
      if (warmupCells.length > 0) {
        await runFlows(
          client,
          warmupCells,
          `${name}_warmup`,
          { ...flowOptions, giveUpAfterMs, signal: options.signal },
          io,
          `warm-up: ${warmupCells.length} exports, ${workers} worker(s)`,
        );
        await deleteSnapshots(client, warmupCells, `${name}_warmup`);
      }
      const cpuBefore = await cpu();
      const result = await runFlows(
        client,
        cells,
        name,
        { ...flowOptions, giveUpAfterMs, signal: options.signal },
        io,
        `${cells.length} exports, ${flowOptions.flows} flows, ${workers} worker(s)`,
      );
      const cpuMsPerExport = cpuPerExport(cpuBefore, await cpu(), cells.length);
      rounds.push({
        workers,
        warmupExports: warmupCells.length,
        ...flowOptions,
        pollsPerExport: result.polls / cells.length,
        exports: cells.length,
        ms: result.ms,
        perSecond: (cells.length / result.ms) * 1000,
        timeToReadyMs: summarize(result.timeToReady),
        notCompleted: cells.length - (await countCompleted(client, cells, name)),
        cpuMsPerExport,
      });
      await deleteSnapshots(client, cells, name);
      await stack.stopWorkers();
    }

    options.signal.throwIfAborted();
    const drainWorkers = Math.max(...options.workerCounts);
    for (let i = 0; i < drainWorkers; i++) await stack.addWorker(workerEnv);
    const drainCells = names.slice(0, options.drain);
    const drained = await drainAll(
      client,
      drainCells,
      "flow_drain",
      { giveUpAfterMs, signal: options.signal },
      io,
      `drain ${drainCells.length} queued exports`,
    );
    const completed = await countCompleted(client, drainCells, "flow_drain");
    return {
      rounds,
      drain: {
        exports: drainCells.length,
        workers: drainWorkers,
        ms: drained.ms,
        perSecond: (drainCells.length / drained.ms) * 1000,
        completed,
        lost: drainCells.length - completed,
      },
      cpus: options.cpus,
    };
  } finally {
    redis.disconnect();
    await stack.close();
  }
}

function pidsOf(stack: BenchStack): { api: number | undefined; workers: Array<number | undefined> } {
  return { api: stack.api.child.pid, workers: stack.workers.map((worker) => worker.proc.child.pid) };
}
