/**
 * The api process: the only file of the api that touches `process`. Reads the config
 * once, acquires resources in order, registers their release in reverse order, and
 * serves the app.
 */
import type { Server } from "node:http";
import { resolve } from "node:path";
import { createJobBackend, createQueueDashboardSource } from "@cellport/queue";
import {
  checkDirWritable,
  closeServer,
  createLogger,
  createShutdown,
  importLimitsFrom,
  type Logger,
  loadConfigOrExit,
  loadSecrets,
  resolveRedis,
  type Shutdown,
} from "@cellport/runtime";
import { createFsStore } from "@cellport/store";
import { serve } from "@hono/node-server";
import { createApp } from "./app.ts";
import { type ApiConfig, loadConfig } from "./config.ts";

async function start(config: ApiConfig, logger: Logger, shutdown: Shutdown): Promise<void> {
  const dataDir = resolve(config.CELLPORT_DATA_DIR);
  const secrets = await loadSecrets({
    dataDir,
    masterToken: config.CELLPORT_MASTER_TOKEN,
    tokenSecret: config.CELLPORT_TOKEN_SECRET,
  });
  const redis = await resolveRedis({ redisUrl: config.REDIS_URL, dataDir, logger });
  shutdown.add("embedded redis-server", () => redis.stop());

  const jobs = createJobBackend({
    redisUrl: redis.url,
    prefix: config.CELLPORT_QUEUE_PREFIX,
    statusMaxAgeMs: config.CELLPORT_STATUS_MAX_AGE_MS,
  });
  shutdown.add("job backend", () => jobs.close());

  const dashboardMode = config.CELLPORT_QUEUE_DASHBOARD;
  const queueDashboard =
    dashboardMode === "off"
      ? undefined
      : createQueueDashboardSource({
          redisUrl: redis.url,
          prefix: config.CELLPORT_QUEUE_PREFIX,
          readOnly: dashboardMode === "read-only",
        });
  if (queueDashboard) shutdown.add("queue dashboard", () => queueDashboard.close());

  const app = createApp({
    store: createFsStore({ dataDir }),
    jobs,
    logger,
    config: {
      baseUrl: config.CELLPORT_BASE_URL ?? null,
      masterToken: secrets.masterToken,
      tokenSecret: secrets.tokenSecret,
      personiumVersion: config.CELLPORT_PERSONIUM_VERSION,
      maxUploadBytes: config.CELLPORT_MAX_UPLOAD_BYTES,
      maxJsonBytes: config.CELLPORT_MAX_JSON_BYTES,
      snapshotLimits: importLimitsFrom(config),
      metricsTokenRequired: config.CELLPORT_METRICS_TOKEN_REQUIRED,
    },
    readiness: [
      { name: "redis", check: () => jobs.ping() },
      { name: "data dir", check: () => checkDirWritable(dataDir) },
    ],
    ...(queueDashboard ? { queueDashboard } : {}),
  });

  const server = await new Promise<Server>((listening) => {
    const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () =>
      listening(s as Server),
    );
  });
  shutdown.add("http server", () =>
    closeServer(server, Math.max(100, config.CELLPORT_SHUTDOWN_TIMEOUT_MS - 1_000)),
  );

  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.PORT;
  logger.info(
    {
      port,
      url: config.CELLPORT_BASE_URL ?? `http://localhost:${port}/`,
      dataDir,
      redis: redis.embedded ? "embedded" : "external",
      generatedSecrets: secrets.generated,
      queueDashboard: dashboardMode,
    },
    "api listening",
  );
}

const config = loadConfigOrExit("cellport api", loadConfig);
const logger = createLogger({ level: config.LOG_LEVEL, name: "api" });
const shutdown = createShutdown({ logger, deadlineMs: config.CELLPORT_SHUTDOWN_TIMEOUT_MS });
shutdown.install();
start(config, logger, shutdown).catch(async (error: unknown) => {
  // Release whatever start-up acquired (an embedded redis-server, connections), then exit 1.
  logger.fatal({ err: error }, "failed to start");
  console.error(`cellport api: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown.run("start-up failed", 1);
});
