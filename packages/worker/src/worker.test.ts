import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createJobBackend, type JobBackend, keysFor } from "@cellport/queue";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix, waitFor } from "@cellport/queue/testing";
import { createLogger } from "@cellport/runtime";
import { type CellJobData, defaultExportName, QUEUE_NAME } from "@cellport/shared";
import { CellNotFoundError } from "@cellport/store";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runExport } from "./export-pipeline.ts";
import {
  createTempStore,
  failingStore,
  findTempFiles,
  readSnapshotZip,
  seedCell,
  slowStore,
  type TempStore,
} from "./test-fixtures.ts";
import { type CellWorker, type CellWorkerOptions, createCellWorker } from "./worker.ts";
import { exportComment } from "./zip-trailer.ts";

const prefix = uniquePrefix("worker");
const keys = keysFor(prefix);
const logger = createLogger({ level: "silent", name: "worker-test" });
let admin: Redis;
let backend: JobBackend;
let fixture: TempStore;
const workers: CellWorker[] = [];
const children: ChildProcess[] = [];

function exportJob(cell: string, name = defaultExportName(cell, new Date())): CellJobData {
  return {
    kind: "export",
    cell,
    name,
    acceptedAt: new Date().toISOString(),
    requestKey: "rk_worker_test",
    unitUrl: "http://localhost:8080/",
  };
}

async function startWorker(overrides: Partial<CellWorkerOptions> = {}): Promise<CellWorker> {
  const worker = await createCellWorker({
    redisUrl: TEST_REDIS_URL,
    prefix,
    store: fixture.store,
    logger,
    concurrency: 2,
    progressIntervalMs: 0,
    ...overrides,
  });
  workers.push(worker);
  return worker;
}

async function enqueue(data: CellJobData): Promise<string> {
  const result = await backend.enqueue(data);
  if (!result.accepted) throw new Error("not accepted");
  return result.jobId;
}

function untilReady(cell: string, timeoutMs = 15_000) {
  return waitFor(async () => (await backend.current(cell)) === null, {
    timeoutMs,
    what: `${cell} to be ready`,
  });
}

beforeAll(() => {
  admin = new Redis(TEST_REDIS_URL);
  backend = createJobBackend({ redisUrl: TEST_REDIS_URL, prefix });
});

beforeEach(async () => {
  fixture = await createTempStore();
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  await Promise.all(workers.splice(0).map((w) => w.close(2_000)));
  const queue = new Queue(QUEUE_NAME, { connection: admin, prefix });
  await queue.obliterate({ force: true });
  await queue.close();
  await backend.forgetCell("c1");
  await fixture.cleanup();
});

afterAll(async () => {
  await backend.close();
  await deleteKeys(admin, prefix);
  await admin.quit();
});

describe("cell worker", () => {
  it("runs an export to completion: a valid zip, a history entry, no temp file", async () => {
    await seedCell(fixture.store, "c1");
    await startWorker();
    const data = exportJob("c1", "snap");
    await enqueue(data);
    await untilReady("c1");

    const zip = await readSnapshotZip(fixture.store, "c1", "snap");
    expect(zip.names[0]).toBe("00_manifest.json");
    const stat = await fixture.store.snapshots.stat("c1", "snap.zip");
    const [entry] = await backend.history("c1");
    expect(entry).toMatchObject({
      kind: "export",
      name: "snap",
      outcome: "completed",
      requestKey: "rk_worker_test",
      attempts: 1,
      size: stat?.size,
      sha256: stat?.sha256,
    });
    expect(entry?.durationMs).toBeGreaterThanOrEqual(0);
    expect(await fixture.store.snapshots.stat("c1", "snap.error")).toBeNull();
    expect(await findTempFiles(fixture.dataDir)).toEqual([]);
  });

  it("announces each job's end (completed or failed) once BullMQ has recorded it", async () => {
    const subscriber = admin.duplicate();
    const heard: Array<{ cell: string; heldAtThatMoment: boolean }> = [];
    subscriber.on("message", (_channel: string, cell: string) => {
      void admin.exists(keys.dedup(cell)).then((held) => heard.push({ cell, heldAtThatMoment: held === 1 }));
    });
    await subscriber.subscribe(keys.jobEndedChannel);
    try {
      await seedCell(fixture.store, "c1");
      await startWorker();
      await enqueue(exportJob("c1", "ok"));
      await untilReady("c1");
      await enqueue(exportJob("missing-cell", "never"));
      await untilReady("missing-cell");
      await waitFor(() => heard.length >= 2, { what: "two announcements" });
      expect(heard).toEqual([
        { cell: "c1", heldAtThatMoment: false },
        { cell: "missing-cell", heldAtThatMoment: false },
      ]);
    } finally {
      subscriber.disconnect();
    }
  });

  it("a permanent failure writes `.error`, a failed history entry, and frees the cell at once", async () => {
    await seedCell(fixture.store, "c1");
    await startWorker({ store: failingStore(fixture.store, () => new CellNotFoundError("gone")) });
    await enqueue(exportJob("c1", "snap"));
    await untilReady("c1");

    const { stream } = await fixture.store.snapshots.open("c1", "snap.error");
    const body = JSON.parse(Buffer.concat(await stream.toArray()).toString("utf8"));
    expect(body).toEqual({ code: "PR404-DV-0003", message: { lang: "en", value: "Cell not found." } });
    const [entry] = await backend.history("c1");
    expect(entry).toMatchObject({ outcome: "failed", attempts: 1, error: body });
    expect(await fixture.store.snapshots.stat("c1", "snap.zip")).toBeNull();
  });

  it("retries an I/O failure with backoff, then writes PR500-SV-0000 after the last attempt", async () => {
    await seedCell(fixture.store, "c1");
    let calls = 0;
    await startWorker({
      store: failingStore(fixture.store, () => {
        calls += 1;
        return Object.assign(new Error("EIO: i/o error"), { code: "EIO" });
      }),
    });
    await enqueue(exportJob("c1", "snap"));
    // Still in progress between attempts (waiting out the backoff).
    await waitFor(async () => (await backend.current("c1"))?.state === "delayed", { what: "backoff" });
    await untilReady("c1");

    expect(calls).toBe(3);
    const { stream } = await fixture.store.snapshots.open("c1", "snap.error");
    expect(JSON.parse(Buffer.concat(await stream.toArray()).toString("utf8"))).toEqual({
      code: "PR500-SV-0000",
      message: { lang: "en", value: "Unknown error." },
    });
    expect((await backend.history("c1"))[0]).toMatchObject({ outcome: "failed", attempts: 3 });
  });

  it("an existing `{Name}.zip` that is not this job's fails with PR409-DV-0002 and is left alone", async () => {
    await seedCell(fixture.store, "c1");
    await runExport({
      store: fixture.store,
      cell: "c1",
      name: "snap",
      unitUrl: "http://x/",
      attemptKey: "other",
    });
    const before = await fixture.store.snapshots.stat("c1", "snap.zip");
    await startWorker();
    await enqueue(exportJob("c1", "snap"));
    await untilReady("c1");
    expect((await backend.history("c1"))[0]?.error?.code).toBe("PR409-DV-0002");
    expect((await fixture.store.snapshots.stat("c1", "snap.zip"))?.sha256).toBe(before?.sha256);
  });

  /** A queued export of c1 whose snapshot is already committed, stamped with its job id (as its attempt would). */
  async function queuedAndCommitted() {
    await seedCell(fixture.store, "c1");
    const jobId = await enqueue(exportJob("c1", "snap"));
    const committed = await runExport({
      store: fixture.store,
      cell: "c1",
      name: "snap",
      unitUrl: "http://localhost:8080/",
      attemptKey: `${jobId}.0`,
      comment: exportComment(jobId),
    });
    return { jobId, committed };
  }

  async function expectCompletedWith(committed: { sha256: string }) {
    await untilReady("c1");
    expect((await fixture.store.snapshots.stat("c1", "snap.zip"))?.sha256).toBe(committed.sha256);
    expect((await backend.history("c1"))[0]).toMatchObject({
      outcome: "completed",
      sha256: committed.sha256,
    });
  }

  it("finishes without redoing when a previous attempt of the job already committed", async () => {
    const { jobId, committed } = await queuedAndCommitted();
    // The attempt that committed died; the one this worker runs is the job's second.
    await admin.hset(keys.bull(jobId), "ats", 1);
    const mustNotExport = () => Promise.reject(new Error("exported again"));
    await startWorker({ store: { ...fixture.store, exportEntries: mustNotExport } });
    await expectCompletedWith(committed);
  });

  it("a first attempt meeting its own job's snapshot at commit completes with it (the file is kept)", async () => {
    const { committed } = await queuedAndCommitted();
    await startWorker();
    await expectCompletedWith(committed);
  });

  it("cancels a running export from the api side: no zip, no temp file, a cancelled entry", async () => {
    await seedCell(fixture.store, "c1", { bigFileBytes: 2_000_000 });
    await startWorker({ store: slowStore(fixture.store, 20) });
    await enqueue(exportJob("c1", "snap"));
    await waitFor(async () => (await findTempFiles(fixture.dataDir)).length > 0, { what: "temp file" });
    expect((await backend.current("c1"))?.state).toBe("active");

    expect(await backend.cancel("c1", "export")).toBe(true);
    expect(await backend.current("c1")).toBeNull();
    expect((await backend.history("c1"))[0]).toMatchObject({ outcome: "cancelled" });
    expect(await fixture.store.snapshots.stat("c1", "snap.zip")).toBeNull();
    expect(await fixture.store.snapshots.stat("c1", "snap.error")).toBeNull();
    await waitFor(async () => (await findTempFiles(fixture.dataDir)).length === 0, { what: "no temp file" });
  });

  it("a job whose cancel key is set is cancelled when a worker starts it", async () => {
    await seedCell(fixture.store, "c1");
    const jobId = await enqueue(exportJob("c1", "snap"));
    await admin.set(keys.cancel(jobId), "1", "EX", 60);
    await startWorker();
    await untilReady("c1");
    expect((await backend.history("c1"))[0]).toMatchObject({ outcome: "cancelled" });
    expect(await fixture.store.snapshots.stat("c1", "snap.zip")).toBeNull();
  });

  it("close() at its deadline abandons a running job back to the wait list, without a verdict", async () => {
    await seedCell(fixture.store, "c1", { bigFileBytes: 2_000_000 });
    const worker = await startWorker({ store: slowStore(fixture.store, 50) });
    const jobId = await enqueue(exportJob("c1", "snap"));
    await waitFor(async () => (await findTempFiles(fixture.dataDir)).length > 0, { what: "temp file" });

    const started = Date.now();
    await worker.close(1_000);
    await worker.close(1_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    const current = await backend.current("c1");
    expect(current?.state).toBe("waiting");
    expect(Number(await admin.hget(keys.bull(jobId), "atm"))).toBe(0);
    expect(await backend.history("c1")).toEqual([]);
    expect(await findTempFiles(fixture.dataDir)).toEqual([]);
  });

  it("sets the queue's global concurrency when asked", async () => {
    await startWorker({ globalConcurrency: 3 });
    expect(await admin.hget(keys.bull("meta"), "concurrency")).toBe("3");
  });

  const crashTiming = { lockDurationMs: 2_000, stalledIntervalMs: 1_000 };

  /** Starts a worker process, enqueues an export and SIGKILLs the process mid-export. */
  async function crashMidExport(cell: string, name: string): Promise<string> {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(new URL("./crash-worker.fixture.ts", import.meta.url)),
        JSON.stringify({
          redisUrl: TEST_REDIS_URL,
          prefix,
          dataDir: fixture.dataDir,
          delayMs: 100,
          ...crashTiming,
        }),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(child);
    if (!child.stdout) throw new Error("no stdout");
    const [line] = (await once(child.stdout, "data")) as [Buffer];
    expect(line.toString()).toContain("ready");

    const jobId = await enqueue(exportJob(cell, name));
    await waitFor(async () => (await findTempFiles(fixture.dataDir)).length > 0, {
      what: "child's temp file",
    });
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(await findTempFiles(fixture.dataDir)).not.toEqual([]);
    return jobId;
  }

  it("a SIGKILLed worker's job is picked up by another worker: one valid zip, no temp files", async () => {
    await seedCell(fixture.store, "c1", { bigFileBytes: 3_000_000 });
    const jobId = await crashMidExport("c1", "snap");

    await startWorker({ ...crashTiming, tempMaxAgeMs: 500 });
    await untilReady("c1", 20_000);
    const zip = await readSnapshotZip(fixture.store, "c1", "snap");
    expect(zip.comment).toBe(exportComment(jobId));
    expect((await fixture.store.snapshots.list("c1")).map((s) => s.name)).toEqual(["snap.zip"]);
    expect(await findTempFiles(fixture.dataDir)).toEqual([]);
    const [entry] = await backend.history("c1");
    expect(entry).toMatchObject({ outcome: "completed", attempts: 1 });
  }, 40_000);

  it("a job that stalled more often than allowed fails with `.error` and a history entry", async () => {
    await seedCell(fixture.store, "c1", { bigFileBytes: 3_000_000 });
    await crashMidExport("c1", "snap");

    await startWorker({ ...crashTiming, maxStalledCount: 0 });
    await untilReady("c1", 20_000);
    expect(await fixture.store.snapshots.stat("c1", "snap.zip")).toBeNull();
    // BullMQ fails it without running our processor; the worker's `failed` listener records it just after.
    const [entry] = await waitFor(async () => {
      const history = await backend.history("c1");
      return history.length > 0 ? history : null;
    });
    expect(entry).toMatchObject({ outcome: "failed", error: { code: "PR500-SV-0000" } });
    await waitFor(() => fixture.store.snapshots.stat("c1", "snap.error"), { what: ".error" });
  }, 40_000);
});
