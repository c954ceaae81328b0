/**
 * `bench status`: GET `{cell}/__export` throughput and latency with autocannon
 * (50 connections, 10 s) while two exports run, beside the in-process baseline
 * endpoint measured the same way in the same run. Targets: at least 60% of the
 * baseline's requests/s, p99 at most 20 ms.
 *
 * The two are measured in alternating slices (5 × 2 s each by default) rather than
 * one after the other: the machine's speed drifts by tens of percent from one
 * 10-s window to the next, and interleaving makes both sides see the same minutes.
 * Each side's slices are then merged as autocannon merges its workers' runs: requests
 * over the time they took, latency percentiles from the merged histogram.
 */
import autocannon from "autocannon";
import { createClient } from "../client/http-client.ts";
import { InterruptedError } from "../errors.ts";
import type { Io } from "../output/format.ts";
import { openLocalStore, seedLocalCell } from "../seed-local.ts";
import type { SeedProfile } from "../seed-profiles.ts";
import { startBaselineServer } from "./baseline-server.ts";
import { sampleCpu } from "./cpu-meter.ts";
import { exportAndWait } from "./export-once.ts";
import { startBenchStack } from "./stack.ts";

export interface LoadFigures {
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  total: number;
  non2xx: number;
  errors: number;
}

export interface StatusBenchResult {
  connections: number;
  durationSeconds: number;
  api: LoadFigures;
  baseline: LoadFigures;
  /** api req/s ÷ baseline req/s. */
  ratio: number;
  /**
   * The api process's CPU per request (µs) over its measurement, the background
   * exports' share included; steadier than req/s when the machine's speed drifts.
   * Null without /proc.
   */
  apiCpuMicrosPerRequest: number | null;
  /** Alternating slices each side was measured in (see the header). */
  slices: number;
  /** Exports that ran in the background during the measurements. */
  backgroundExports: number;
  targets: { ratio: number; p99Ms: number };
  cpus: number;
}

const CELLS = ["bench-status-1", "bench-status-2"];

/** At most this many slices per side; each lasts at least a second. */
const MAX_SLICES = 5;

/** A run's own figures, as autocannon returns them with `skipAggregateResult` (not in its types). */
export interface SliceRun {
  totalCompletedRequests: number;
  /** Seconds. */
  duration: number;
  non2xx: number;
  errors: number;
}

/** autocannon's merge of such runs (exported by it, not in @types/autocannon). */
const { aggregateResult } = autocannon as unknown as {
  aggregateResult(runs: readonly SliceRun[], options: autocannon.Options): autocannon.Result;
};

/** One side's slices as one measurement. */
export function combineSlices(runs: readonly SliceRun[], options: autocannon.Options): LoadFigures {
  const total = runs.reduce((sum, run) => sum + run.totalCompletedRequests, 0);
  const seconds = runs.reduce((sum, run) => sum + run.duration, 0);
  const { latency } = aggregateResult(runs, options);
  return {
    requestsPerSecond: seconds > 0 ? total / seconds : 0,
    latencyMs: { p50: latency.p50, p99: latency.p99, max: latency.max },
    total,
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
  };
}

export async function runStatusBench(options: {
  profile: SeedProfile;
  connections: number;
  durationSeconds: number;
  redisUrl: string | undefined;
  io: Io;
  signal: AbortSignal;
  echo?: boolean;
  cpus: number;
}): Promise<StatusBenchResult> {
  const { io } = options;
  io.stderr.write("bench status: starting api and worker…\n");
  const stack = await startBenchStack({ redisUrl: options.redisUrl, echo: options.echo ?? false });
  let stop = false;
  let backgroundExports = 0;
  const loops: Promise<void>[] = [];
  try {
    await stack.addWorker();
    const store = openLocalStore(stack.ctx.dataDir, { durable: false });
    for (const cell of CELLS) {
      io.stderr.write(`seeding ${cell}…\n`);
      await seedLocalCell(store, { cell, profile: options.profile, seed: cell });
    }
    const client = createClient({ baseUrl: stack.api.baseUrl, token: async () => stack.ctx.masterToken });

    // Two exports kept running for the whole measurement: each loop re-exports its cell.
    for (const cell of CELLS) {
      loops.push(
        (async () => {
          for (let i = 1; !stop; i++) {
            await exportAndWait(client, cell, `status_${i}`, { pollMs: 200 });
            backgroundExports++;
            await client.deleteSnapshot(cell, `status_${i}.zip`).catch(() => {});
          }
        })(),
      );
    }
    const target = `${stack.api.baseUrl}${CELLS[0]}/__export`;
    const headers = { Authorization: `Bearer ${stack.ctx.masterToken}` };
    const sampleBody = await (await fetch(target, { headers })).text();
    const slices = Math.max(1, Math.min(MAX_SLICES, Math.floor(options.durationSeconds)));
    const sliceSeconds = options.durationSeconds / slices;
    const optionsFor = (url: string, title: string, withHeaders: Record<string, string>) => ({
      url,
      connections: options.connections,
      duration: sliceSeconds,
      headers: withHeaders,
      title,
    });
    const apiOptions = optionsFor(target, "cellport api", headers);
    const run = async (runOptions: autocannon.Options): Promise<SliceRun> => {
      if (options.signal.aborted) throw new InterruptedError();
      return (await autocannon({ ...runOptions, skipAggregateResult: true })) as unknown as SliceRun;
    };
    const apiCpuMs = async () =>
      (await sampleCpu({ api: stack.api.child.pid, workers: [], redis: null })).api;
    const server = await startBaselineServer(sampleBody);
    const baselineOptions = optionsFor(server.url, "baseline", {});
    const apiSlices: SliceRun[] = [];
    const baselineSlices: SliceRun[] = [];
    let apiCpuMsSpent: number | null = 0;
    try {
      for (let i = 1; i <= slices; i++) {
        io.stderr.write(
          `autocannon, slice ${i}/${slices}: cellport api, then baseline, ${options.connections} connections, ` +
            `${sliceSeconds} s each…\n`,
        );
        const before = await apiCpuMs();
        apiSlices.push(await run(apiOptions));
        const after = await apiCpuMs();
        apiCpuMsSpent =
          apiCpuMsSpent === null || before === null || after === null ? null : apiCpuMsSpent + after - before;
        baselineSlices.push(await run(baselineOptions));
      }
    } finally {
      await server.close();
    }
    const api = combineSlices(apiSlices, apiOptions);
    const baseline = combineSlices(baselineSlices, baselineOptions);
    return {
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      api,
      baseline,
      ratio: baseline.requestsPerSecond > 0 ? api.requestsPerSecond / baseline.requestsPerSecond : Number.NaN,
      apiCpuMicrosPerRequest:
        apiCpuMsSpent === null || api.total === 0 ? null : (apiCpuMsSpent * 1000) / api.total,
      slices,
      backgroundExports,
      targets: { ratio: 0.6, p99Ms: 20 },
      cpus: options.cpus,
    };
  } finally {
    stop = true;
    await Promise.allSettled(loops);
    await stack.close();
  }
}
