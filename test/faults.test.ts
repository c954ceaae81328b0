/**
 * Faults, end to end (real api and worker processes, real Redis): a worker killed in
 * the middle of an import, Redis stopped in the middle of an export, a disk that
 * refuses to write, a worker told to stop in the middle of an export, and two api +
 * two worker processes under load. Each case asserts what was lost (nothing: every
 * accepted job ends with a valid result or a clean, visible failure) and what was
 * left behind (nothing: no temp files, no partial zip visible, no status stuck "in
 * progress"). (A worker SIGKILLed in the middle of an *export* is in export.test.ts.)
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, readlink, rm } from "node:fs/promises";
import { join } from "node:path";
import { seedCell } from "@cellport/cli";
import { REQUIRED_ENTRIES } from "@cellport/shared";
import { createFsStore } from "@cellport/store";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { authHeaders, eventually } from "./support/http.ts";
import {
  type ApiProc,
  cleanupContext,
  createContext,
  nodeArgsFor,
  PROCESS_ENTRIES,
  Proc,
  repoRoot,
  type StackContext,
  startApi,
  startWorker,
} from "./support/processes.ts";
import { type RedisServer, startRedisServer } from "./support/redis-server.ts";
import { readZipEntries } from "./support/zip.ts";

// Short locks: a killed worker's job is taken over within seconds.
const FAST_TAKEOVER = { CELLPORT_LOCK_DURATION_MS: "2000", CELLPORT_STALLED_INTERVAL_MS: "1000" };

let ctx: StackContext;
let api: ApiProc;
/** Every process a test starts; stopped after each test whatever happened. */
const procs: Proc[] = [];

beforeAll(async () => {
  ctx = await createContext();
  api = await startApi(ctx);
});

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop("SIGKILL")));
});

afterAll(async () => {
  const exit = await api?.stop("SIGTERM");
  if (ctx) await cleanupContext(ctx);
  expect(exit).toEqual({ code: 0, signal: null });
});

// --- helpers ----------------------------------------------------------------------

function track<P extends Proc>(proc: P): P {
  procs.push(proc);
  return proc;
}

function client(stack: StackContext, base: string) {
  const auth = () => authHeaders(stack.masterToken);
  const url = (path: string) => `${base}${path}`;
  return {
    url,
    fetch: (path: string, init: RequestInit = {}) =>
      fetch(url(path), { ...init, headers: { ...auth(), ...(init.headers as Record<string, string>) } }),
    async json<T = Record<string, string>>(path: string): Promise<T> {
      const res = await fetch(url(path), { headers: auth() });
      expect(res.status, `GET ${path}`).toBe(200);
      return (await res.json()) as T;
    },
  };
}
type Client = ReturnType<typeof client>;

const storeOf = (stack: StackContext) => createFsStore({ dataDir: stack.dataDir, durable: false });

async function seed(stack: StackContext, cell: string, files: number, totalBytes: number, replace = false) {
  return seedCell(storeOf(stack), {
    cell,
    boxes: 1,
    entitiesPerType: 3,
    files,
    totalBytes,
    // Mostly random bytes: the zip is about as large as the cell, so exports take a while.
    textRatio: 0.1,
    seed: `${cell}-${files}-${totalBytes}`,
    replace,
  });
}

const percent = (body: Record<string, string>) => Number.parseInt(body.progress ?? "0", 10);

/** Waits until the cell's job (export or import) has made progress, i.e. a worker is inside it. */
async function waitForProgress(api: Client, cell: string, kind: "export" | "import"): Promise<void> {
  await eventually(
    async () => {
      const body = await api.json(`${cell}/__${kind}`);
      if (body.status === "ready" || body.status === "import failed") {
        throw new Error(`the ${kind} of ${cell} ended before it could be interrupted`);
      }
      return percent(body) > 0 ? true : undefined;
    },
    30_000,
    25,
  ).catch((error: unknown) => {
    throw new Error(`no progress on ${cell}: ${String(error)}`);
  });
}

/** Polls GET `__{kind}` until it leaves "in progress"; returns the final body. */
async function waitForEnd(
  api: Client,
  cell: string,
  kind: "export" | "import",
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  return eventually(
    async () => {
      const body = await api.json<Record<string, unknown>>(`${cell}/__${kind}`);
      return String(body.status).endsWith("in progress") ? undefined : body;
    },
    timeoutMs,
    50,
  );
}

/** Everything under the cell's dirs where in-flight writes live: must end up empty. */
async function leftovers(stack: StackContext, cell: string): Promise<string[]> {
  const dir = join(stack.dataDir, "cells", cell);
  const list = async (sub: string) =>
    (await readdir(join(dir, sub)).catch(() => [] as string[])).map((n) => `${sub}/${n}`);
  return [...(await list("snapshots/.tmp")), ...(await list("tmp"))];
}

async function expectNoLeftovers(stack: StackContext, cell: string): Promise<void> {
  // The last sweep runs as the attempt ends, a moment after the status turns ready.
  await eventually(
    async () => ((await leftovers(stack, cell)).length === 0 ? true : undefined),
    10_000,
  ).catch(async () => expect(await leftovers(stack, cell)).toEqual([]));
}

/** The cell's live generation (what `current` points to), and its other generation dirs. */
async function generations(stack: StackContext, cell: string): Promise<[string, string[]]> {
  const dir = join(stack.dataDir, "cells", cell);
  const live = await readlink(join(dir, "current"));
  const others = (await readdir(dir)).filter((n) => n.startsWith("gen-") && n !== live);
  return [live, others];
}

/** The committed snapshot files of a cell, as the snapshot area lists them. */
async function snapshotFiles(stack: StackContext, cell: string): Promise<string[]> {
  return (await storeOf(stack).snapshots.list(cell)).map((s) => s.name).sort();
}

async function download(api: Client, cell: string, file: string): Promise<Buffer> {
  const res = await api.fetch(`${cell}/__snapshot/${file}`);
  expect(res.status, `GET ${file}`).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** Asserts a downloaded export is a complete snapshot of a cell seeded with `files` files. */
async function expectValidSnapshot(zipBytes: Buffer, files: number): Promise<Map<string, Buffer>> {
  const zip = await readZipEntries(zipBytes);
  for (const entry of REQUIRED_ENTRIES) expect(zip.has(entry), entry).toBe(true);
  expect(JSON.parse(zip.get("00_manifest.json")?.toString("utf8") ?? "{}")).toMatchObject({
    export_version: 2,
  });
  expect([...zip.keys()].filter((n) => n.endsWith("/content"))).toHaveLength(files);
  return zip;
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** `content` entry name → sha256 of the cell's files, read from the store as an export would. */
async function contentDigests(stack: StackContext, cell: string): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const entry of await storeOf(stack).exportEntries(cell)) {
    if (entry.directory || !entry.name.endsWith("/content")) continue;
    const hash = createHash("sha256");
    for await (const chunk of entry.open()) hash.update(chunk as Buffer);
    digests.set(entry.name, hash.digest("hex"));
  }
  return digests;
}

async function historyOf(api: Client, cell: string) {
  return (await api.json<{ exports: Array<Record<string, unknown>> }>(`${cell}/__export/history`)).exports;
}

/** Resolves with the exit status, or with "running" if the process is still up after `ms`. */
async function exitWithin(proc: Proc, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"running">((done) => {
    timer = setTimeout(() => done("running"), ms);
  });
  return Promise.race([proc.exited, late]).finally(() => clearTimeout(timer));
}

// --- the faults -------------------------------------------------------------------

describe("a worker SIGKILLed in the middle of an import", () => {
  it("is recovered by another worker: the cell holds the snapshot's content, nothing else is left", async () => {
    const cell = "kill-import";
    const api1 = client(ctx, api.baseUrl);
    // The snapshot: this cell's own export of a large content (about 80 MB of random bytes)...
    const big = await seed(ctx, cell, 50, 80 * 1024 * 1024);
    const victim = track(await startWorker(ctx, FAST_TAKEOVER));
    expect((await api1.fetch(`${cell}/__export`, { method: "POST", body: '{"Name":"big"}' })).status).toBe(
      202,
    );
    expect(await waitForEnd(api1, cell, "export")).toEqual({ status: "ready" });
    const zip = await expectValidSnapshot(await download(api1, cell, "big.zip"), big.files);
    const expected = new Map(
      [...zip].filter(([name]) => name.endsWith("/content")).map(([name, bytes]) => [name, sha256(bytes)]),
    );
    // ...then the cell gets other, small content, so the import has something to change.
    await seed(ctx, cell, 5, 50_000, true);
    expect((await contentDigests(ctx, cell)).size).toBe(5);

    expect((await api1.fetch(`${cell}/__import`, { method: "POST", body: '{"Name":"big"}' })).status).toBe(
      202,
    );
    await waitForProgress(api1, cell, "import");
    expect(await victim.stop("SIGKILL")).toEqual({ code: null, signal: "SIGKILL" });
    const [liveBefore, stagedBefore] = await generations(ctx, cell);
    // The killed attempt was staging its copy next to the live content.
    expect(stagedBefore).toHaveLength(1);
    // Still importing (never "ready", never "import failed") while no worker runs it.
    expect((await api1.json(`${cell}/__import`)).status).toBe("importation in progress");
    // The half-done import is invisible: the cell still holds its old content.
    expect((await contentDigests(ctx, cell)).size).toBe(5);

    track(await startWorker(ctx, FAST_TAKEOVER));
    expect(await waitForEnd(api1, cell, "import", 90_000)).toEqual({ status: "ready" });
    // Exactly the snapshot's files, byte for byte; the old content is gone.
    expect(await contentDigests(ctx, cell)).toEqual(expected);
    await expectNoLeftovers(ctx, cell);
    expect(await snapshotFiles(ctx, cell)).toEqual(["big.zip"]);
    // The import swapped in a new generation and removed the old one. The killed
    // attempt's staging stays until the store's stale-generation sweep (24 h by default):
    // never live, never read, only disk space.
    const [liveAfter, stagedAfter] = await generations(ctx, cell);
    expect(liveAfter).not.toBe(liveBefore);
    expect(stagedAfter).toEqual(stagedBefore);
    // The lock went with the job.
    expect((await api1.fetch(`${cell}/__/after.txt`, { method: "PUT", body: "x" })).status).toBe(201);
  });
});

describe("Redis stopped in the middle of an export", () => {
  let redis: RedisServer | undefined;
  let stack: StackContext | undefined;
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop("SIGKILL")));
    await redis?.stop();
    if (stack) await rm(stack.dataDir, { recursive: true, force: true });
  });

  it("503 PR503-SV-0001 within 1 s while it is down; api and worker recover by themselves; the export still completes", async () => {
    // A private Redis (never the shared 6379), with AOF so the queue survives the restart.
    redis = await startRedisServer({ args: ["--appendonly", "yes"] });
    stack = { ...(await createContext()), redisUrl: redis.url };
    const down = track(await startApi(stack));
    const worker = track(await startWorker(stack, FAST_TAKEOVER));
    const api2 = client(stack, down.baseUrl);
    const cell = "redis-down";
    const seeded = await seed(stack, cell, 50, 120 * 1024 * 1024);
    await seed(stack, "redis-after", 3, 10_000);

    expect(
      (await api2.fetch(`${cell}/__export`, { method: "POST", body: '{"Name":"through"}' })).status,
    ).toBe(202);
    await waitForProgress(api2, cell, "export");
    await redis.kill("SIGKILL");
    // Until the api has seen its connections close (milliseconds), a status read may
    // still be answered from its ≤ 100 ms old in-progress entry; from then on, never.
    await eventually(
      async () => {
        const res = await api2.fetch(`${cell}/__export`);
        await res.arrayBuffer();
        return res.status === 503 ? true : undefined;
      },
      2_000,
      10,
    );

    // Every kind of request that needs the queue fails fast with 503, never hangs.
    const probes: Array<[string, RequestInit]> = [
      [`${cell}/__export`, {}],
      ["redis-after/__export", { method: "POST", body: '{"Name":"refused"}' }],
      [`${cell}/__import`, {}],
      ["redis-after/__/x.txt", { method: "PUT", body: "x" }],
    ];
    // Down for longer than a job lock (2 s), so the running attempt loses its lock
    // meanwhile, and until the worker has noticed: the probes run all along.
    const downAt = Date.now();
    let rounds = 0;
    while (Date.now() - downAt < 3_000 || !worker.lines.some((l) => l.includes("redis connection error"))) {
      expect(Date.now() - downAt, "the worker never noticed Redis was down").toBeLessThan(15_000);
      rounds++;
      for (const [path, init] of probes) {
        const started = performance.now();
        const res = await api2.fetch(path, { ...init, signal: AbortSignal.timeout(5_000) });
        const took = performance.now() - started;
        expect(res.status, `${init.method ?? "GET"} ${path}`).toBe(503);
        expect(await res.json()).toMatchObject({ code: "PR503-SV-0001" });
        expect(took, `${init.method ?? "GET"} ${path} took ${took.toFixed(0)} ms`).toBeLessThan(1_000);
      }
    }
    expect(rounds).toBeGreaterThan(3);
    expect((await fetch(`${down.baseUrl}readyz`)).status).toBe(503);

    await redis.restart();
    // Nobody restarts the api or the worker: they reconnect by themselves.
    await eventually(
      async () => ((await fetch(`${down.baseUrl}readyz`)).status === 200 ? true : undefined),
      15_000,
    );
    const final = await waitForEnd(api2, cell, "export", 90_000);
    expect(final).toEqual({ status: "ready" });
    expect(down.running && worker.running).toBe(true);

    // The accepted export was not lost. (A clean failure — `.error`, status ready — would
    // also be safe, but nothing here calls for one: the attempt that lost its lock while
    // Redis was away is abandoned without a verdict, and the job runs again.)
    expect(await snapshotFiles(stack, cell)).toEqual(["through.zip"]);
    await expectValidSnapshot(await download(api2, cell, "through.zip"), seeded.files);
    expect((await historyOf(api2, cell))[0]).toMatchObject({ name: "through", outcome: "completed" });
    await expectNoLeftovers(stack, cell);

    // And the recovered pair takes new work.
    expect(
      (await api2.fetch("redis-after/__export", { method: "POST", body: '{"Name":"after"}' })).status,
    ).toBe(202);
    expect(await waitForEnd(api2, "redis-after", "export", 30_000)).toEqual({ status: "ready" });
    expect(await snapshotFiles(stack, "redis-after")).toEqual(["after.zip"]);

    expect(await worker.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    expect(await down.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});

describe("a disk that refuses to write during an export", () => {
  it("ends in `{Name}.error`, status ready, no partial zip, and the worker keeps running", async () => {
    const cell = "disk-full";
    const api1 = client(ctx, api.baseUrl);
    await seed(ctx, cell, 20, 8 * 1024 * 1024);
    // RLIMIT_FSIZE: any write past 1-2 MiB into one file fails with EFBIG — for root as
    // well (chmod does not stop root), and only for this worker. The zip grows past it
    // mid-export; the `.error` file and sidecars stay far below it.
    const child = spawn(
      "sh",
      ["-c", 'ulimit -f 4096 && exec "$0" "$@"', process.execPath, ...nodeArgsFor(PROCESS_ENTRIES.worker)],
      {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          REDIS_URL: ctx.redisUrl,
          CELLPORT_DATA_DIR: ctx.dataDir,
          CELLPORT_QUEUE_PREFIX: ctx.prefix,
          LOG_LEVEL: "info",
          ...FAST_TAKEOVER,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const worker = track(new Proc("worker-fsize", child, Boolean(process.env.CELLPORT_TEST_VERBOSE)));
    await worker.waitForLine(/worker ready/);

    expect(
      (await api1.fetch(`${cell}/__export`, { method: "POST", body: '{"Name":"nospace"}' })).status,
    ).toBe(202);
    // Every attempt hits the limit; after the last one the failure is recorded.
    expect(await waitForEnd(api1, cell, "export", 60_000)).toEqual({ status: "ready" });
    expect(await snapshotFiles(ctx, cell)).toEqual(["nospace.error"]);
    expect((await api1.fetch(`${cell}/__snapshot/nospace.zip`)).status).toBe(404);
    expect(JSON.parse((await download(api1, cell, "nospace.error")).toString("utf8"))).toEqual({
      code: "PR500-SV-0000",
      message: { lang: "en", value: "Unknown error." },
    });
    expect((await historyOf(api1, cell))[0]).toMatchObject({
      name: "nospace",
      outcome: "failed",
      attempts: 3,
    });
    expect(worker.lines.some((line) => line.includes("EFBIG"))).toBe(true);
    await expectNoLeftovers(ctx, cell);
    expect(worker.running).toBe(true);
    expect(await worker.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});

describe("SIGTERM to a worker in the middle of an export", () => {
  it("finishes the export within its deadline and exits 0", async () => {
    const cell = "term-finish";
    const api1 = client(ctx, api.baseUrl);
    const seeded = await seed(ctx, cell, 30, 40 * 1024 * 1024);
    const worker = track(await startWorker(ctx, { CELLPORT_SHUTDOWN_TIMEOUT_MS: "30000" }));
    expect(
      (await api1.fetch(`${cell}/__export`, { method: "POST", body: '{"Name":"drained"}' })).status,
    ).toBe(202);
    await waitForProgress(api1, cell, "export");
    worker.child.kill("SIGTERM");
    expect(await exitWithin(worker, 30_000)).toEqual({ code: 0, signal: null });
    // No other worker runs: the one that was stopped finished the job before it exited.
    expect(await api1.json(`${cell}/__export`)).toEqual({ status: "ready" });
    await expectValidSnapshot(await download(api1, cell, "drained.zip"), seeded.files);
    expect((await historyOf(api1, cell))[0]).toMatchObject({
      name: "drained",
      outcome: "completed",
      attempts: 1,
    });
    await expectNoLeftovers(ctx, cell);
  });

  it("past its deadline hands the job back and exits 0; the next worker completes it at once", async () => {
    const cell = "term-handback";
    const api1 = client(ctx, api.baseUrl);
    const seeded = await seed(ctx, cell, 50, 150 * 1024 * 1024);
    // Default (30 s) locks: if the job were not handed back, no worker could take it
    // for 30 s, and this test's bound below would fail.
    const first = track(await startWorker(ctx, { CELLPORT_SHUTDOWN_TIMEOUT_MS: "1500" }));
    expect((await api1.fetch(`${cell}/__export`, { method: "POST", body: '{"Name":"handed"}' })).status).toBe(
      202,
    );
    await waitForProgress(api1, cell, "export");
    const stoppedAt = Date.now();
    first.child.kill("SIGTERM");
    expect(await exitWithin(first, 5_000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    // Handed back, not finished and not lost: still in progress, nothing published, no temp file.
    expect((await api1.json(`${cell}/__export`)).status).toBe("exportation in progress");
    expect(await snapshotFiles(ctx, cell)).toEqual([]);
    expect(await leftovers(ctx, cell)).toEqual([]);

    const startedAt = Date.now();
    track(await startWorker(ctx));
    expect(await waitForEnd(api1, cell, "export", 25_000)).toEqual({ status: "ready" });
    expect(Date.now() - startedAt).toBeLessThan(25_000);
    await expectValidSnapshot(await download(api1, cell, "handed.zip"), seeded.files);
    expect((await historyOf(api1, cell))[0]).toMatchObject({ name: "handed", outcome: "completed" });
    await expectNoLeftovers(ctx, cell);
  });
});

describe("two api and two worker processes under load", () => {
  it("lose no export and answer no 5xx", async () => {
    const second = track(await startApi(ctx));
    const workers = [
      track(await startWorker(ctx, FAST_TAKEOVER)),
      track(await startWorker(ctx, FAST_TAKEOVER)),
    ];
    // One `cellport loadtest` per api, at once: both apis, both workers, one Redis, one data dir.
    const runs = await Promise.all(
      [api.baseUrl, second.baseUrl].map((base, i) => loadtest(base, join(ctx.dataDir, `loadtest-${i}.json`))),
    );
    for (const { code, stderr, report } of runs) {
      const summary = JSON.stringify({
        exports: report.exports,
        byStatus: report.requests?.byStatus,
        errors: report.errors,
      });
      expect(code, `${summary}\n${stderr}`).toBe(0);
      expect(report.exports, summary).toMatchObject({
        lost: 0,
        stuck: 0,
        failed: 0,
        cancelled: 0,
        verifyFailures: 0,
      });
      expect(report.exports.accepted, summary).toBeGreaterThanOrEqual(40);
      expect(report.exports.completed, summary).toBe(report.exports.accepted);
      expect(report.exports.verified, summary).toBe(report.exports.completed);
      expect(report.errors.total, summary).toBe(0);
      expect(
        Object.keys(report.requests.byStatus).filter((status) => !/^[1-4]\d\d$/.test(status)),
        summary,
      ).toEqual([]);
      expect(report.lockViolations, summary).toBe(0);
      expect(report.nonMonotonic.total, summary).toBe(0);
    }
    // Nothing crashed under the load, and everything stops cleanly.
    for (const proc of [second, ...workers])
      expect(await proc.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    expect(api.running).toBe(true);
  });
});

interface LoadtestRun {
  code: number | null;
  stderr: string;
  report: {
    exports: Record<string, number>;
    errors: { total: number };
    requests: { byStatus: Record<string, number> };
    lockViolations: number;
    nonMonotonic: { total: number };
  };
}

/** `cellport loadtest` against one api: small cells, all probe kinds, bounded in count and time. */
async function loadtest(base: string, out: string): Promise<LoadtestRun> {
  const args = [
    "--import",
    "tsx",
    join(repoRoot, "packages/cli/src/main.ts"),
    "loadtest",
    ...["--create", "4", "--profile", "tiny", "--exports", "40", "--duration", "20s"],
    ...["--concurrency", "4", "--poll-interval", "100ms", "--drain-timeout", "30s", "--mix", "all"],
    ...["--out", out],
  ];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CELLPORT_URL: base,
      CELLPORT_TOKEN: ctx.masterToken,
      CELLPORT_DATA_DIR: ctx.dataDir,
      CELLPORT_TOKEN_SECRET: ctx.tokenSecret,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const proc = track(new Proc("loadtest", child, Boolean(process.env.CELLPORT_TEST_VERBOSE)));
  const exit = await exitWithin(proc, 90_000);
  if (exit === "running")
    throw new Error(`loadtest against ${base} still running after 90 s:\n${proc.tail()}`);
  const report = JSON.parse(await readFile(out, "utf8").catch(() => "{}")) as LoadtestRun["report"];
  return { code: exit.code, stderr: proc.tail(), report };
}
