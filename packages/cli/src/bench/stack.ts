/**
 * The processes a benchmark measures: a real api and real worker(s), started like
 * the e2e harness starts them (stack/processes.ts), against the configured Redis
 * (or the one `resolveRedis` finds) under a unique prefix, with a temp data dir.
 *
 * Worker figures come from the worker itself and the kernel: its Prometheus
 * endpoint (prom-client's `nodejs_eventloop_lag_*`, computed over the time since
 * the previous scrape) and `/proc/<pid>/status` VmHWM (peak RSS, reset by writing
 * "5" to `/proc/<pid>/clear_refs`). `reset()` opens a window, `stats()` closes it.
 */
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, freePort, resolveRedis } from "@cellport/runtime";
import { metricValue } from "../prometheus.ts";
import {
  type ApiProc,
  cleanupContext,
  createStackContext,
  type Proc,
  type StackContext,
  startApi,
  startWorker,
} from "../stack/processes.ts";
import { parseProcStatus } from "./proc-status.ts";

export interface WorkerStats {
  /** Event-loop delay since the last reset (ms). */
  loopDelayMs: { p50: number | null; p99: number | null; max: number | null };
  /** Peak RSS since the last reset; null when /proc is not readable. */
  peakRssBytes: number | null;
}

export interface BenchWorker {
  proc: Proc;
  /** Starts a fresh measurement window (event-loop histogram and peak RSS). */
  reset(): Promise<void>;
  /** The window's figures (and a new window). */
  stats(): Promise<WorkerStats>;
}

export interface BenchStack {
  ctx: StackContext;
  api: ApiProc;
  workers: BenchWorker[];
  addWorker(extraEnv?: Record<string, string>): Promise<BenchWorker>;
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

function benchWorker(proc: Proc, metricsUrl: string): BenchWorker {
  const pid = proc.child.pid;
  const scrape = async () => (await fetch(metricsUrl)).text();
  const ms = (seconds: number | null) => (seconds === null ? null : seconds * 1000);
  return {
    proc,
    async reset() {
      await scrape(); // prom-client resets its event-loop histogram on every collect
      if (pid) await writeFile(`/proc/${pid}/clear_refs`, "5").catch(() => {});
    },
    async stats() {
      const text = await scrape();
      const status = pid ? await readFile(`/proc/${pid}/status`, "utf8").catch(() => "") : "";
      return {
        loopDelayMs: {
          p50: ms(metricValue(text, "nodejs_eventloop_lag_p50_seconds")),
          p99: ms(metricValue(text, "nodejs_eventloop_lag_p99_seconds")),
          max: ms(metricValue(text, "nodejs_eventloop_lag_max_seconds")),
        },
        peakRssBytes: parseProcStatus(status).vmHwmBytes,
      };
    },
  };
}

export async function startBenchStack(options: {
  redisUrl: string | undefined;
  echo?: boolean;
}): Promise<BenchStack> {
  // resolveRedis: the configured REDIS_URL, else 127.0.0.1:6379, else a private redis-server.
  const probeDir = join(tmpdir(), "cellport-bench-redis");
  const redis = await resolveRedis({
    redisUrl: options.redisUrl,
    dataDir: probeDir,
    logger: createLogger({ level: "silent", name: "bench" }),
  });
  const ctx = await createStackContext({ redisUrl: redis.url, label: "bench", echo: options.echo ?? false });
  const workers: BenchWorker[] = [];
  let api: ApiProc | undefined;

  const stack: BenchStack = {
    ctx,
    get api() {
      return api as ApiProc;
    },
    workers,
    async addWorker(extraEnv = {}) {
      // An explicit port: the default one (9464) may be taken by another worker.
      const port = await freePort();
      const proc = await startWorker(ctx, { CELLPORT_WORKER_METRICS_PORT: String(port), ...extraEnv });
      const worker = benchWorker(proc, `http://127.0.0.1:${port}/metrics`);
      workers.push(worker);
      return worker;
    },
    async stopWorkers() {
      await Promise.all(workers.splice(0).map((w) => w.proc.stop("SIGTERM")));
    },
    async close() {
      await stack.stopWorkers();
      await api?.stop("SIGTERM");
      await cleanupContext(ctx).catch(() => {});
      await redis.stop();
    },
  };
  try {
    api = await startApi(ctx, { LOG_LEVEL: "warn" });
  } catch (error) {
    await cleanupContext(ctx).catch(() => {});
    await redis.stop();
    throw error;
  }
  return stack;
}
