/**
 * `npm start`: the main job on one machine. Resolves Redis once (so both processes
 * share the same one, embedded or not), starts one api and one worker as separate
 * processes, waits until the api is ready, prints how to use it, and stops both on
 * SIGINT/SIGTERM (or when either exits). To scale out, run `npm run start:api` and
 * `npm run start:worker` as many times as needed instead.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, createShutdown, loadConfigOrExit, loadSecrets, resolveRedis } from "@cellport/runtime";
import { loadConfig } from "../packages/api/src/config.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const config = loadConfigOrExit("cellport", loadConfig);
const logger = createLogger({ level: config.LOG_LEVEL, name: "start" });
const shutdown = createShutdown({ logger, deadlineMs: config.CELLPORT_SHUTDOWN_TIMEOUT_MS + 5_000 });
shutdown.install();

function startChild(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [join(root, entry)], { cwd: process.cwd(), env, stdio: "inherit" });
  child.on("exit", (code, signal) => {
    logger.warn({ process: name, code, signal }, "process exited");
    void shutdown.run(`${name} exited`, code === 0 ? 0 : 1);
  });
  shutdown.add(name, () => stopChild(child));
  return child;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once("exit", () => done());
    child.kill("SIGTERM");
  });
}

async function waitForReady(url: string, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

function banner(baseUrl: string, masterToken: string, tokenFromEnv: boolean): string {
  const token = tokenFromEnv ? "$CELLPORT_MASTER_TOKEN" : masterToken;
  return [
    "",
    `cellport is running at ${baseUrl}`,
    tokenFromEnv
      ? "Authenticate with the master token you set in CELLPORT_MASTER_TOKEN:"
      : `Master token (generated, kept in ${config.CELLPORT_DATA_DIR}/secrets.json):`,
    `  export CELLPORT_URL=${baseUrl} CELLPORT_TOKEN=${token}`,
    "Create a demo cell with data, export it and watch its progress (in another terminal):",
    "  npm run cellport -- seed demo --files 300 --size 30MB && npm run cellport -- export demo --watch",
    "Or with curl only:",
    `  curl -s -X POST -H "Authorization: Bearer $CELLPORT_TOKEN" -d '{"Name":"demo"}' ${baseUrl}__ctl/Cell`,
    `  curl -s -X POST -H "Authorization: Bearer $CELLPORT_TOKEN" ${baseUrl}demo/__export`,
    `  curl -s -H "Authorization: Bearer $CELLPORT_TOKEN" ${baseUrl}demo/__export`,
    "Stop with Ctrl-C.",
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const dataDir = resolve(config.CELLPORT_DATA_DIR);
  // Create the secrets before either child starts, so both read the same file.
  const secrets = await loadSecrets({
    dataDir,
    masterToken: config.CELLPORT_MASTER_TOKEN,
    tokenSecret: config.CELLPORT_TOKEN_SECRET,
  });
  const redis = await resolveRedis({ redisUrl: config.REDIS_URL, dataDir, logger });
  shutdown.add("embedded redis-server", () => redis.stop());

  // MALLOC_ARENA_MAX: glibc gives each zlib thread its own malloc arena, and freed
  // deflate buffers stay resident in them; two arenas keep a worker's RSS flat.
  const env = {
    MALLOC_ARENA_MAX: "2",
    ...process.env,
    REDIS_URL: redis.url,
    CELLPORT_DATA_DIR: dataDir,
  };
  // The bundles `npm start`'s bootstrap has just built (scripts/build.mjs).
  startChild("worker", "packages/worker/dist/main.mjs", env);
  startChild("api", "packages/api/dist/main.mjs", env);

  const localUrl = `http://localhost:${config.PORT}/`;
  if (!(await waitForReady(`${localUrl}readyz`, 30_000))) {
    logger.error("the api did not become ready within 30 s");
    await shutdown.run("api not ready", 1);
    return;
  }
  console.log(
    banner(
      config.CELLPORT_BASE_URL ?? localUrl,
      secrets.masterToken,
      !secrets.generated.includes("masterToken"),
    ),
  );
}

main().catch(async (error: unknown) => {
  console.error(`cellport: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown.run("start-up failed", 1);
});
