/**
 * A real app for route tests: the fs store in a fresh temp dir, the BullMQ job
 * backend on the machine's Redis under a unique prefix, and a logger that records
 * every line. `close()` removes the temp dir and every Redis key of the prefix.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createJobBackend, createQueueDashboardSource } from "@cellport/queue";
import type { CellJobData } from "@cellport/shared";
import { createFsStore } from "@cellport/store";
import { Redis } from "ioredis";
import { pino } from "pino";
import { type CellportApp, createApp } from "../app.ts";
import { mintCellToken } from "../auth/tokens.ts";
import type { AppConfig, AppDeps, ReadinessCheck } from "../deps.ts";

export const TEST_REDIS_URL = "redis://127.0.0.1:6379";
export const MASTER_TOKEN = "test-master-token-0123456789abcdef";
export const TOKEN_SECRET = "test-token-secret-0123456789abcdef0123456789";

export interface TestApp {
  app: CellportApp;
  deps: AppDeps;
  /** Temp root; the store's data dir is `${root}/data`, anything else in root is "outside". */
  root: string;
  dataDir: string;
  prefix: string;
  /** Raw JSON log lines. */
  logLines: string[];
  /** Creates a cell through the store (not through HTTP). */
  createCell(name: string): Promise<void>;
  /** Puts an export job on the cell without a worker: it stays queued and holds the lock. */
  holdCell(cell: string, kind?: CellJobData["kind"]): Promise<void>;
  releaseCell(cell: string, kind?: CellJobData["kind"]): Promise<void>;
  /** Every file under root, relative to it. */
  filesUnderRoot(): Promise<string[]>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  config?: Partial<AppConfig>;
  readiness?: ReadinessCheck[];
  /** Replace parts of the deps (e.g. a failing store) after the real ones are built. */
  override?: (deps: AppDeps) => AppDeps;
  /** Mount the queue dashboard on the app's own queue prefix. */
  queueDashboard?: { readOnly: boolean };
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const root = await mkdtemp(join(tmpdir(), "cellport-api-"));
  const dataDir = join(root, "data");
  const prefix = `{cellport-test-api-${randomBytes(4).toString("hex")}}`;
  const jobs = createJobBackend({ redisUrl: TEST_REDIS_URL, prefix });
  const logLines: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) });
  const store = createFsStore({ dataDir, durable: false });
  const queueDashboard = options.queueDashboard
    ? createQueueDashboardSource({
        redisUrl: TEST_REDIS_URL,
        prefix,
        readOnly: options.queueDashboard.readOnly,
      })
    : undefined;
  const base: AppDeps = {
    store,
    jobs,
    logger,
    config: {
      baseUrl: null,
      masterToken: MASTER_TOKEN,
      tokenSecret: TOKEN_SECRET,
      personiumVersion: "1.7.21",
      maxUploadBytes: 1024 * 1024,
      maxJsonBytes: 16 * 1024,
      ...options.config,
    },
    readiness: options.readiness ?? [],
    ...(queueDashboard ? { queueDashboard } : {}),
  };
  const deps = options.override ? options.override(base) : base;
  const app = createApp(deps);

  async function walk(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      out.push(relative(root, full));
      if (entry.isDirectory()) out.push(...(await walk(full)));
    }
    return out;
  }

  return {
    app,
    deps,
    root,
    dataDir,
    prefix,
    logLines,
    async createCell(name) {
      await store.createCell(name);
    },
    async holdCell(cell, kind = "export") {
      const result = await jobs.enqueue({
        kind,
        cell,
        name: `${cell}_held`,
        acceptedAt: new Date().toISOString(),
        requestKey: "test",
        unitUrl: "http://localhost/",
      });
      if (!result.accepted) throw new Error(`cell ${cell} already had a job`);
    },
    async releaseCell(cell, kind = "export") {
      await jobs.cancel(cell, kind);
    },
    filesUnderRoot: () => walk(root),
    async close() {
      await queueDashboard?.close();
      await jobs.close();
      const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(
            cursor,
            "MATCH",
            `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`,
            "COUNT",
            500,
          );
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== "0");
      } finally {
        redis.disconnect();
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

export const master = (): Record<string, string> => bearer(MASTER_TOKEN);

export function cellToken(
  cell: string,
  privileges: string[] = ["root"],
  options: { scope?: string; ttlSeconds?: number; secret?: string; now?: number } = {},
): string {
  return mintCellToken({
    secret: options.secret ?? TOKEN_SECRET,
    cell,
    privileges,
    ttlSeconds: options.ttlSeconds ?? 3600,
    ...(options.scope !== undefined ? { scope: options.scope } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
}

/** Parsed JSON body of a Personium error, for `expect(...).toEqual(...)`. */
export async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  const body = (await response.json()) as { code: string; message: { lang: string; value: string } };
  return { code: body.code, message: body.message.value };
}
