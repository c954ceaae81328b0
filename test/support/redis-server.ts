/**
 * Private `redis-server` processes for tests that must break Redis (stop it, restart
 * it) or need a different topology (a cluster): never the machine's 6379, which other
 * tests share. Each server runs in the foreground as our child on a free loopback
 * port, with its files in a temp dir that `stop()` removes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, redisAnswers } from "@cellport/runtime";

export interface RedisServerOptions {
  /** Where its files (AOF, cluster config) go; a fresh temp dir by default, removed on `stop()`. */
  dir?: string;
  port?: number;
  /** Extra `redis-server` arguments, e.g. `["--appendonly", "yes"]`. */
  args?: readonly string[];
  /** A config file, given first (a Sentinel needs one it can rewrite). */
  configFile?: string;
}

export interface RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly url: string;
  readonly running: boolean;
  /** Kills the server (SIGKILL by default: a crash, not a shutdown) and waits for its exit; keeps its files. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and dir (after `kill`), and waits until it answers. */
  restart(): Promise<void>;
  /** Stops it and removes its dir (if we created it). Idempotent. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

async function waitUntilAnswers(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const until = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited during start-up: ${stderr()}`);
    }
    if (await redisAnswers("127.0.0.1", port, 200)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server on port ${port} did not answer within ${START_TIMEOUT_MS} ms: ${stderr()}`);
}

function killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  return exited.finally(() => clearTimeout(timer));
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "cellport-redis-")));
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let output = "";

  async function launch(): Promise<void> {
    output = "";
    const args = [
      ...(options.configFile ? [options.configFile] : []),
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--dir",
      dir,
      "--daemonize",
      "no",
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction",
      ...(options.args ?? []),
    ];
    const proc = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-4_000);
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);
    await new Promise<void>((done, fail) => {
      proc.once("spawn", () => done());
      proc.once("error", (error) => fail(new Error(`cannot start redis-server: ${error.message}`)));
    });
    child = proc;
    await waitUntilAnswers(port, proc, () => output);
  }

  try {
    await launch();
  } catch (error) {
    if (child) await killAndWait(child, "SIGKILL");
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async kill(signal = "SIGKILL") {
      if (child) await killAndWait(child, signal);
    },
    async restart() {
      if (child) await killAndWait(child, "SIGKILL");
      await launch();
    },
    stop() {
      stopped ??= (async () => {
        if (child) await killAndWait(child, "SIGTERM");
        if (ownDir) await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
