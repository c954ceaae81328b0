/**
 * `bench status`: GET `{cell}/__export` throughput and latency with autocannon
 * (50 connections, 10 s) while two exports run, beside the in-process baseline
 * endpoint measured the same way in the same run. Targets: at least 60% of the
 * baseline's requests/s, p99 at most 20 ms.
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
  /** Exports that ran in the background during the measurements. */
  backgroundExports: number;
  targets: { ratio: number; p99Ms: number };
  cpus: number;
}

const CELLS = ["bench-status-1", "bench-status-2"];

function figures(result: autocannon.Result): LoadFigures {
  return {
    requestsPerSecond: result.requests.average,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
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
    const run = async (url: string, title: string, withHeaders: Record<string, string>) => {
      if (options.signal.aborted) throw new InterruptedError();
      io.stderr.write(
        `autocannon ${title}: ${options.connections} connections, ${options.durationSeconds} s…\n`,
      );
      return figures(
        await autocannon({
          url,
          connections: options.connections,
          duration: options.durationSeconds,
          headers: withHeaders,
          title,
        }),
      );
    };
    const apiCpuMs = async () =>
      (await sampleCpu({ api: stack.api.child.pid, workers: [], redis: null })).api;
    const apiCpuBefore = await apiCpuMs();
    const api = await run(target, "cellport api", headers);
    const apiCpuAfter = await apiCpuMs();
    const server = await startBaselineServer(sampleBody);
    let baseline: LoadFigures;
    try {
      baseline = await run(server.url, "baseline", {});
    } finally {
      await server.close();
    }
    return {
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      api,
      baseline,
      ratio: baseline.requestsPerSecond > 0 ? api.requestsPerSecond / baseline.requestsPerSecond : Number.NaN,
      apiCpuMicrosPerRequest:
        apiCpuBefore === null || apiCpuAfter === null || api.total === 0
          ? null
          : ((apiCpuAfter - apiCpuBefore) * 1000) / api.total,
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
