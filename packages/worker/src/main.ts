/**
 * The worker process: the only file of the worker that touches `process`. Reads the
 * config once (a bad one exits 1 before any socket opens), acquires resources in
 * order, and registers their release in reverse order.
 */
import { readdirSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import {
  createLogger,
  createShutdown,
  importLimitsFrom,
  type Logger,
  loadConfigOrExit,
  resolveRedis,
  type Shutdown,
} from "@cellport/runtime";
import { createFsStore } from "@cellport/store";
import { loadConfig, type WorkerConfig } from "./config.ts";
import { createImportRunner } from "./import-pipeline.ts";
import { createWorkerMetrics } from "./metrics.ts";
import { startMetricsServer } from "./metrics-server.ts";
import { createCellWorker } from "./worker.ts";

/**
 * Lowers the CPU priority of every thread of this process; best effort. Linux keeps a
 * nice value per thread and `setpriority(pid)` changes only the thread with that id,
 * so the threads that already exist (libuv's pool, which runs zlib and fs work, and
 * V8's helpers) are reniced one by one through /proc/self/task; threads created later
 * inherit the value of the (reniced) thread that creates them.
 */
function lowerPriority(nice: number, logger: Logger): void {
  if (nice <= 0) return;
  let threadIds: number[] = [process.pid];
  try {
    threadIds = readdirSync("/proc/self/task").map(Number).filter(Number.isInteger);
  } catch {
    // No /proc (not Linux): the process-wide call below is all there is.
  }
  try {
    for (const id of threadIds) if (os.getPriority(id) < nice) os.setPriority(id, nice);
  } catch (error) {
    logger.warn({ err: error, nice }, "could not lower the worker's CPU priority");
  }
}

async function start(config: WorkerConfig, logger: Logger, shutdown: Shutdown): Promise<void> {
  lowerPriority(config.CELLPORT_WORKER_NICE, logger);
  const dataDir = resolve(config.CELLPORT_DATA_DIR);
  const redis = await resolveRedis({ redisUrl: config.REDIS_URL, dataDir, logger });
  shutdown.add("embedded redis-server", () => redis.stop());

  // Up before the worker and closed after it, so a scrape can watch the drain.
  const metrics = createWorkerMetrics();
  const metricsPort = config.CELLPORT_WORKER_METRICS_PORT;
  const metricsServer =
    metricsPort === "off"
      ? null
      : await startMetricsServer({
          source: metrics.registry,
          ...(metricsPort !== undefined ? { port: metricsPort } : {}),
          logger,
        });
  if (metricsServer) shutdown.add("metrics server", () => metricsServer.close());

  const worker = await createCellWorker({
    redisUrl: redis.url,
    prefix: config.CELLPORT_QUEUE_PREFIX,
    store: createFsStore({ dataDir }),
    logger,
    concurrency: config.CELLPORT_WORKER_CONCURRENCY,
    ...(config.CELLPORT_GLOBAL_CONCURRENCY !== undefined
      ? { globalConcurrency: config.CELLPORT_GLOBAL_CONCURRENCY }
      : {}),
    lockDurationMs: config.CELLPORT_LOCK_DURATION_MS,
    stalledIntervalMs: config.CELLPORT_STALLED_INTERVAL_MS,
    observer: metrics.observer,
    runImport: createImportRunner(importLimitsFrom(config)),
  });
  // Leaves a second of the shutdown deadline for the steps after it (embedded Redis).
  shutdown.add("worker", () => worker.close(Math.max(500, config.CELLPORT_SHUTDOWN_TIMEOUT_MS - 1_000)));

  logger.info(
    {
      queue: worker.queue,
      prefix: worker.prefix,
      concurrency: worker.concurrency,
      globalConcurrency: config.CELLPORT_GLOBAL_CONCURRENCY ?? null,
      dataDir,
      redis: redis.embedded ? "embedded" : "external",
      metricsPort: metricsServer?.port ?? null,
    },
    "worker ready",
  );
}

const config = loadConfigOrExit("cellport worker", loadConfig);
const logger = createLogger({ level: config.LOG_LEVEL, name: "worker" });
const shutdown = createShutdown({ logger, deadlineMs: config.CELLPORT_SHUTDOWN_TIMEOUT_MS });
shutdown.install();
start(config, logger, shutdown).catch(async (error: unknown) => {
  // Release whatever start-up acquired (an embedded redis-server, connections), then exit 1.
  logger.fatal({ err: error }, "failed to start");
  console.error(
    `cellport worker: failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  await shutdown.run("start-up failed", 1);
});
