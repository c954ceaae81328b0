/**
 * Starts the real api and worker processes (through tsx, as `npm run start:*` does)
 * against a real Redis, each stack with its own key prefix and temp data dir, and
 * stops them again. Shared by the end-to-end tests (`test/support/processes.ts`
 * re-exports it) and `cellport bench`, which measures the same processes users run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRedisClient, waitForReady as waitForRedis } from "@cellport/queue";
import { freePort } from "@cellport/runtime";
import { Cluster, type Redis } from "ioredis";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

export interface SpawnOptions {
  /** Node flags placed before the entry (e.g. `--import` of a preload). */
  nodeArgs?: readonly string[];
  /** Copy the child's output to our stderr, prefixed with its name. */
  echo?: boolean;
}

/** A running child process whose output lines are kept for assertions. */
export class Proc {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    echo = false,
  ) {
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) this.lines.push(line);
      for (const wake of this.waiters.splice(0)) wake();
      if (echo) process.stderr.write(`[${name}] ${chunk}`);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    this.exited = new Promise((done) => child.once("exit", (code, signal) => done({ code, signal })));
    void this.exited.then(() => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits (bounded) for an output line matching `pattern`. */
  async waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((l) => pattern.test(l));
      if (found) return found;
      if (!this.running) throw new Error(`${this.name} exited before printing ${pattern}:\n${this.tail()}`);
      const left = until - Date.now();
      if (left <= 0)
        throw new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }

  tail(n = 30): string {
    return this.lines.slice(-n).join("\n");
  }

  /** Sends `signal` and resolves with the exit status (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 20_000) {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }
}

export interface StackContext {
  dataDir: string;
  prefix: string;
  masterToken: string;
  tokenSecret: string;
  redisUrl: string;
  /** Echo child output to stderr (debugging). */
  echo?: boolean;
}

/** A fresh stack: temp data dir, unique hash-tagged Redis prefix, random secrets. */
export async function createStackContext(options: {
  redisUrl: string;
  /** Names the temp dir and the prefix, e.g. `e2e`, `bench`. */
  label?: string;
  echo?: boolean;
}): Promise<StackContext> {
  const label = options.label ?? "stack";
  return {
    dataDir: await mkdtemp(join(tmpdir(), `cellport-${label}-`)),
    prefix: `{${label}-${randomBytes(4).toString("hex")}}`,
    masterToken: `master-${randomBytes(12).toString("hex")}`,
    tokenSecret: randomBytes(32).toString("hex"),
    redisUrl: options.redisUrl,
    ...(options.echo ? { echo: true } : {}),
  };
}

function baseEnv(ctx: StackContext, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    REDIS_URL: ctx.redisUrl,
    CELLPORT_DATA_DIR: ctx.dataDir,
    CELLPORT_QUEUE_PREFIX: ctx.prefix,
    CELLPORT_MASTER_TOKEN: ctx.masterToken,
    CELLPORT_TOKEN_SECRET: ctx.tokenSecret,
    // As the start scripts run them (see package.json): fewer glibc malloc arenas.
    MALLOC_ARENA_MAX: "2",
    LOG_LEVEL: "info",
    ...extra,
  };
}

/**
 * The processes as users run them: the bundles `scripts/build.mjs` makes (run by the
 * bootstrap of `npm start` / `npm test`, and by the e2e global setup).
 */
export const PROCESS_ENTRIES = {
  api: "packages/api/dist/main.mjs",
  worker: "packages/worker/dist/main.mjs",
} as const;

/** Node arguments that run `entry`: a bundle as it is, a TypeScript file through tsx's loader. */
export function nodeArgsFor(entry: string, nodeArgs: readonly string[] = []): string[] {
  const loader = entry.endsWith(".ts") ? ["--import", "tsx"] : [];
  return [...loader, ...nodeArgs, join(repoRoot, entry)];
}

export function spawnProcess(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  options: SpawnOptions = {},
): Proc {
  // One process, node itself (never the `tsx` command, which runs the service as a
  // child of its own: a SIGKILL in a crash test would kill only that parent).
  const child = spawn(process.execPath, nodeArgsFor(entry, options.nodeArgs), {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Proc(name, child, options.echo ?? false);
}

export interface ApiProc extends Proc {
  baseUrl: string;
}

export async function startApi(
  ctx: StackContext,
  extra: Record<string, string> = {},
  options: SpawnOptions = {},
): Promise<ApiProc> {
  const port = await freePort();
  const proc = spawnProcess(
    "api",
    PROCESS_ENTRIES.api,
    baseEnv(ctx, { PORT: String(port), HOST: "127.0.0.1", ...extra }),
    { echo: ctx.echo ?? false, ...options },
  );
  const baseUrl = `http://127.0.0.1:${port}/`;
  await waitForReady(proc, `${baseUrl}readyz`);
  return Object.assign(proc, { baseUrl });
}

export async function startWorker(
  ctx: StackContext,
  extra: Record<string, string> = {},
  options: SpawnOptions = {},
): Promise<Proc> {
  const proc = spawnProcess("worker", PROCESS_ENTRIES.worker, baseEnv(ctx, extra), {
    echo: ctx.echo ?? false,
    ...options,
  });
  await proc.waitForLine(/worker ready/);
  return proc;
}

async function waitForReady(proc: Proc, url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!proc.running) throw new Error(`${proc.name} exited during start-up:\n${proc.tail()}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms:\n${proc.tail()}`);
}

/** Removes the stack's Redis keys and data dir. */
/** Deletes every key of `prefix` on one node (SCAN is per node, also in a cluster). */
async function deletePrefix(node: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await node.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    // One DEL per key: in a cluster, a multi-key DEL must stay within one slot.
    await Promise.all(keys.map((key) => node.del(key)));
  } while (cursor !== "0");
}

export async function cleanupContext(ctx: StackContext): Promise<void> {
  const client = createRedisClient(ctx.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    await waitForRedis(client, 10_000);
    const nodes = client instanceof Cluster ? client.nodes("master") : [client];
    for (const node of nodes) await deletePrefix(node, ctx.prefix);
  } finally {
    client.disconnect();
  }
  await rm(ctx.dataDir, { recursive: true, force: true });
}
