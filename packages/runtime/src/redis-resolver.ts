/**
 * Finds the Redis the process should use. With `REDIS_URL` set it is used as given.
 * Without it: 127.0.0.1:6379 if it answers; else an embedded redis-server already
 * started by a sibling process on this data dir; else a private `redis-server` from
 * PATH (free port, AOF under the data dir), stopped when this process stops. Never a
 * silent run without a queue: if none of these works, the error says what to do.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, Socket } from "node:net";
import { join, resolve } from "node:path";
import type { Logger } from "pino";

export interface ResolvedRedis {
  url: string;
  /** True when it is the private redis-server under the data dir. */
  embedded: boolean;
  /** Stops the private redis-server if this process started it; otherwise does nothing. */
  stop(): Promise<void>;
}

export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RedisUnavailableError";
  }
}

const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_PORT = 6379;

/** True when a Redis at host:port answers PING without needing a password. */
export function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket();
    let reply = "";
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("error", () => finish(false));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) finish(reply.startsWith("+PONG"));
    });
    socket.connect(port, host, () => socket.write("*1\r\n$4\r\nPING\r\n"));
  });
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, DEFAULT_HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

async function waitUntilAnswers(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null)
      throw new RedisUnavailableError(`redis-server exited with code ${child.exitCode}`);
    if (await redisAnswers(DEFAULT_HOST, port, 200)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new RedisUnavailableError(`redis-server did not answer on port ${port} within ${deadlineMs} ms`);
}

interface EmbeddedRecord {
  port: number;
  pid: number;
}

export async function resolveRedis(options: {
  redisUrl?: string | undefined;
  dataDir: string;
  logger: Logger;
  /** The well-known port to try first (tests point it at a closed port). */
  defaultPort?: number;
}): Promise<ResolvedRedis> {
  const noStop = async () => {};
  if (options.redisUrl) return { url: options.redisUrl, embedded: false, stop: noStop };

  const defaultPort = options.defaultPort ?? DEFAULT_PORT;
  if (await redisAnswers(DEFAULT_HOST, defaultPort)) {
    return { url: `redis://${DEFAULT_HOST}:${defaultPort}`, embedded: false, stop: noStop };
  }

  const redisDir = resolve(options.dataDir, "redis");
  const recordFile = join(redisDir, "embedded.json");
  const existing = await readFile(recordFile, "utf8")
    .then((text) => JSON.parse(text) as EmbeddedRecord)
    .catch(() => null);
  if (existing && (await redisAnswers(DEFAULT_HOST, existing.port))) {
    options.logger.info(
      { port: existing.port },
      "using the embedded redis-server started by another cellport process",
    );
    return { url: `redis://${DEFAULT_HOST}:${existing.port}`, embedded: true, stop: noStop };
  }

  await mkdir(redisDir, { recursive: true });
  const port = await freePort();
  const args = [
    "--bind",
    DEFAULT_HOST,
    "--port",
    String(port),
    "--dir",
    redisDir,
    "--appendonly",
    "yes",
    "--save",
    "",
    "--maxmemory-policy",
    "noeviction",
    "--daemonize",
    "no",
  ];
  const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  const spawned = await new Promise<boolean>((done) => {
    child.once("spawn", () => done(true));
    child.once("error", () => done(false));
  });
  if (!spawned) {
    throw new RedisUnavailableError(
      "No Redis answers on 127.0.0.1:6379 and `redis-server` is not on PATH. " +
        "Set REDIS_URL=redis://host:port to use an existing Redis, or install Redis " +
        "(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis).",
    );
  }
  await waitUntilAnswers(port, child, 10_000);
  await writeFile(recordFile, JSON.stringify({ port, pid: child.pid ?? 0 } satisfies EmbeddedRecord));
  options.logger.info(
    { port, dir: redisDir },
    "started a private redis-server (REDIS_URL unset, nothing on 6379)",
  );

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await rm(recordFile, { force: true });
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((done) => child.once("exit", () => done()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    })();
    return stopped;
  };
  return { url: `redis://${DEFAULT_HOST}:${port}`, embedded: true, stop };
}
