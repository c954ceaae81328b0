import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { type CellJobData, exportStatus, QUEUE_NAME } from "@cellport/shared";
import { type Job, Queue, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { listenForCancels } from "./cancel.ts";
import { workerConnectionOptions } from "./connection.ts";
import { createJobBackend } from "./job-backend.ts";
import { publishJobEnded } from "./job-ended.ts";
import { keysFor } from "./keys.ts";
import { type JobBackend, QueueUnavailableError } from "./port.ts";
import { createJobRecorder, historyEntry } from "./recorder.ts";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix, waitFor } from "./testing.ts";

const prefix = uniquePrefix("queue");
const keys = keysFor(prefix);
let admin: Redis;
const backend = createJobBackend({ redisUrl: TEST_REDIS_URL, prefix, historyLimit: 5 });
const workers: Array<{ close(): Promise<void> }> = [];

let cellCounter = 0;
function freshCell(): string {
  cellCounter += 1;
  return `cell-${cellCounter}`;
}

function jobData(cell: string, overrides: Partial<CellJobData> = {}): CellJobData {
  return {
    kind: "export",
    cell,
    name: `${cell}_snap`,
    acceptedAt: new Date().toISOString(),
    requestKey: "rk_test",
    unitUrl: "http://localhost:8080/",
    ...overrides,
  };
}

/** A tiny BullMQ worker on the test prefix, closed after each test. */
function startWorker(processor: (job: Job<CellJobData>, signal: AbortSignal) => Promise<unknown>) {
  const connection = new Redis(TEST_REDIS_URL, workerConnectionOptions());
  const subscriber = new Redis(TEST_REDIS_URL, workerConnectionOptions());
  const controllers = new Map<string, AbortController>();
  const worker = new Worker<CellJobData>(
    QUEUE_NAME,
    async (job) => {
      const controller = new AbortController();
      controllers.set(job.id ?? "", controller);
      try {
        return await processor(job, controller.signal);
      } finally {
        controllers.delete(job.id ?? "");
      }
    },
    { connection, prefix, concurrency: 2 },
  );
  worker.on("error", () => {});
  const listening = listenForCancels({
    subscriber,
    prefix,
    onCancel: (jobId) => controllers.get(jobId)?.abort(),
  });
  const handle = {
    worker,
    listening,
    async close() {
      await (await listening).close();
      // Forced: a test that failed may leave a processor waiting forever.
      await worker.close(true);
      await Promise.all([connection.quit(), subscriber.quit()]);
    },
  };
  workers.push(handle);
  return handle;
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new UnrecoverableError("cancelled"));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}

beforeAll(() => {
  admin = new Redis(TEST_REDIS_URL);
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  // Each test starts with an empty queue, so a worker only sees that test's jobs.
  const queue = new Queue(QUEUE_NAME, { connection: admin, prefix });
  await queue.obliterate({ force: true });
  await queue.close();
});

afterAll(async () => {
  await backend.close();
  await deleteKeys(admin, prefix);
  await admin.quit();
});

describe("enqueue", () => {
  it("accepts exactly one of 50 concurrent enqueues for one cell", async () => {
    const cell = freshCell();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => backend.enqueue(jobData(cell, { name: `snap-${i}` }))),
    );
    const accepted = results.filter((r) => r.accepted);
    expect(accepted).toHaveLength(1);
    const winner = accepted[0];
    if (!winner?.accepted) throw new Error("unreachable");
    const winnerName = results.indexOf(winner);
    for (const refused of results.filter((r) => !r.accepted)) {
      if (refused.accepted) continue;
      // The holder is the stored job, not the refused call's own data.
      expect(refused.holder?.data.name).toBe(`snap-${winnerName}`);
      expect(refused.holder?.state).toBe("waiting");
    }
    expect(await admin.get(keys.dedup(cell))).toBe(winner.jobId);
  });

  it("reads as in progress as soon as enqueue resolves", async () => {
    const cell = freshCell();
    const data = jobData(cell);
    const result = await backend.enqueue(data);
    expect(result.accepted).toBe(true);
    expect(exportStatus(await backend.current(cell))).toEqual({
      status: "exportation in progress",
      started_at: data.acceptedAt,
      progress: "0%",
      exportation_name: data.name,
    });
  });

  it("stores bounded job options so Redis does not grow forever", async () => {
    const cell = freshCell();
    const result = await backend.enqueue(jobData(cell));
    if (!result.accepted) throw new Error("not accepted");
    const opts = JSON.parse((await admin.hget(keys.bull(result.jobId), "opts")) ?? "{}");
    expect(opts.attempts).toBe(3);
    expect(opts.removeOnComplete).toMatchObject({ count: 1000 });
    expect(opts.removeOnFail).toMatchObject({ count: 1000 });
  });
});

describe("current", () => {
  it("is null for a cell without a job", async () => {
    expect(await backend.current(freshCell())).toBeNull();
  });

  it("follows a job through waiting, active with progress, and back to null when done", async () => {
    const cell = freshCell();
    const data = jobData(cell);
    await backend.enqueue(data);
    expect((await backend.current(cell))?.state).toBe("waiting");

    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    startWorker(async (job) => {
      await job.updateProgress(42);
      await released;
      return { ok: true };
    });
    const active = await waitFor(async () => {
      const job = await backend.current(cell);
      return job?.state === "active" && job.progress === 42 ? job : null;
    });
    expect(active.data).toEqual(data);
    expect(exportStatus(active)).toMatchObject({ progress: "42%" });

    release();
    await waitFor(async () => (await backend.current(cell)) === null, { what: "job to finish" });
    expect(await admin.exists(keys.dedup(cell))).toBe(0);
  });

  it("reports a job waiting out a retry backoff as delayed (still in progress)", async () => {
    const cell = freshCell();
    await backend.enqueue(jobData(cell));
    startWorker(async () => {
      throw new Error("disk hiccup");
    });
    const delayed = await waitFor(async () => {
      const job = await backend.current(cell);
      return job?.state === "delayed" ? job : null;
    });
    expect(exportStatus(delayed).status).toBe("exportation in progress");
  });
});

describe("status (the polled read, cached per process)", () => {
  // Two api processes: `other` caches for long, so only the end-of-job feed can refresh it.
  const other = createJobBackend({ redisUrl: TEST_REDIS_URL, prefix, statusMaxAgeMs: 60_000 });
  afterAll(() => other.close());

  /** Lets a process subscribe to the end-of-job feed (its first status read starts it). */
  async function following(backend: JobBackend, cell: string): Promise<void> {
    await backend.status(cell);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  it("reads in progress in every process as soon as one of them accepted the job", async () => {
    const cell = freshCell();
    await following(other, cell);
    expect(await other.status(cell)).toBeNull();
    await backend.enqueue(jobData(cell));
    expect((await other.status(cell))?.state).toBe("waiting");
    expect(other.holdsJob(cell)).toBe(true);
  });

  it("serves progress from memory, and reads 'nothing running' once the job's end is announced", async () => {
    const cell = freshCell();
    await following(other, cell);
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { worker } = startWorker(async (job) => {
      await job.updateProgress(10);
      await released;
      return {};
    });
    worker.on("completed", (job) => void publishJobEnded(admin, keys, job.data.cell));
    await backend.enqueue(jobData(cell));
    await waitFor(async () => (await backend.current(cell))?.progress === 10);
    await other.status(cell);
    await admin.hset(keys.bull((await admin.get(keys.dedup(cell))) ?? ""), "progress", "20");
    expect((await other.status(cell))?.progress).not.toBe(20); // from memory (max age 60 s)
    expect((await backend.status(cell))?.progress).toBe(20); // max age 100 ms: read again
    release();
    await waitFor(async () => (await other.status(cell)) === null, {
      timeoutMs: 3_000,
      what: "the announced end to reach the other process",
    });
    expect(other.holdsJob(cell)).toBe(false);
  });

  it("forgets a cancelled queued job at once in every process", async () => {
    const cell = freshCell();
    await following(other, cell);
    await backend.enqueue(jobData(cell));
    expect(await other.status(cell)).not.toBeNull();
    expect(await backend.cancel(cell, "export")).toBe(true);
    await waitFor(async () => (await other.status(cell)) === null, { timeoutMs: 3_000 });
  });
});

describe("cancel", () => {
  it("returns false when nothing runs, or when the cell's job is of the other kind", async () => {
    const cell = freshCell();
    expect(await backend.cancel(cell, "export")).toBe(false);
    await backend.enqueue(jobData(cell, { kind: "import" }));
    expect(await backend.cancel(cell, "export")).toBe(false);
    expect((await backend.current(cell))?.data.kind).toBe("import");
  });

  it("removes a waiting job, frees the cell and records a cancelled entry", async () => {
    const cell = freshCell();
    const data = jobData(cell);
    const result = await backend.enqueue(data);
    if (!result.accepted) throw new Error("not accepted");
    expect(await backend.cancel(cell, "export")).toBe(true);
    expect(await backend.current(cell)).toBeNull();
    expect(await admin.exists(keys.bull(result.jobId))).toBe(0);
    const [entry] = await backend.history(cell);
    expect(entry).toMatchObject({
      kind: "export",
      name: data.name,
      outcome: "cancelled",
      requestKey: "rk_test",
    });
    expect((await backend.enqueue(jobData(cell))).accepted).toBe(true);
  });

  it("signals a running job through the channel and waits until it lets go of the cell", async () => {
    const cell = freshCell();
    const result = await backend.enqueue(jobData(cell));
    if (!result.accepted) throw new Error("not accepted");
    let sawAbort = false;
    const handle = startWorker(async (_job, signal) => {
      await untilAborted(signal).catch((error: unknown) => {
        sawAbort = true;
        throw error;
      });
    });
    await handle.listening;
    await waitFor(async () => (await backend.current(cell))?.state === "active", { what: "active" });

    const started = Date.now();
    expect(await backend.cancel(cell, "export")).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(sawAbort).toBe(true);
    expect(await backend.current(cell)).toBeNull();
    // The durable flag stays for a worker that picks the job up again.
    expect(await admin.exists(keys.cancel(result.jobId))).toBe(1);
  });
});

describe("history and import failures", () => {
  it("keeps the newest entries first, trimmed to the limit", async () => {
    const cell = freshCell();
    const recorder = createJobRecorder(admin, { prefix, historyLimit: 5 });
    for (let i = 0; i < 7; i++) {
      await recorder.recordHistory(cell, historyEntry(jobData(cell, { name: `n${i}` }), "completed"));
    }
    const entries = await backend.history(cell);
    expect(entries.map((e) => e.name)).toEqual(["n6", "n5", "n4", "n3", "n2"]);
    expect((await backend.history(cell, 2)).map((e) => e.name)).toEqual(["n6", "n5"]);
  });

  it("keeps an import failure until the next import of the cell is accepted", async () => {
    const cell = freshCell();
    const recorder = createJobRecorder(admin, { prefix });
    const failure = {
      name: "snap",
      acceptedAt: new Date().toISOString(),
      progress: 81,
      error: { code: "PR500-SV-0000", message: { lang: "en" as const, value: "Unknown error." } },
    };
    await recorder.recordImportFailure(cell, failure);
    expect(await backend.lastImportFailure(cell)).toEqual(failure);

    // An export does not clear it; an accepted import does.
    await backend.enqueue(jobData(cell));
    expect(await backend.lastImportFailure(cell)).toEqual(failure);
    await backend.cancel(cell, "export");
    expect((await backend.enqueue(jobData(cell, { kind: "import" }))).accepted).toBe(true);
    expect(await backend.lastImportFailure(cell)).toBeNull();
  });

  it("forgets a deleted cell's history and last failure", async () => {
    const cell = freshCell();
    const recorder = createJobRecorder(admin, { prefix });
    await recorder.recordHistory(cell, historyEntry(jobData(cell), "failed"));
    await recorder.recordImportFailure(cell, {
      name: "x",
      acceptedAt: new Date().toISOString(),
      progress: 0,
      error: { code: "PR500-SV-0000", message: { lang: "en", value: "Unknown error." } },
    });
    await backend.forgetCell(cell);
    expect(await backend.history(cell)).toEqual([]);
    expect(await backend.lastImportFailure(cell)).toBeNull();
  });
});

describe("counts", () => {
  it("reads every reported state, and follows jobs from waiting to active to completed", async () => {
    expect(await backend.counts()).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      prioritized: 0,
      failed: 0,
      completed: 0,
    });
    const [a, b] = [freshCell(), freshCell()];
    await backend.enqueue(jobData(a));
    await backend.enqueue(jobData(b));
    expect(await backend.counts()).toMatchObject({ waiting: 2, active: 0 });

    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    startWorker(async (job) => (job.data.cell === a ? held : undefined));
    await waitFor(
      async () => {
        const counts = await backend.counts();
        return counts.active === 1 && counts.completed === 1 && counts.waiting === 0;
      },
      { what: "one job active, one completed" },
    );
    release();
    await waitFor(async () => (await backend.counts()).completed === 2, { what: "both completed" });
  });
});

describe("when Redis cannot be reached", () => {
  it("every method throws QueueUnavailableError within about a second", async () => {
    const port = await closedPort();
    const down = createJobBackend({ redisUrl: `redis://127.0.0.1:${port}`, prefix });
    try {
      const calls: Array<[string, () => Promise<unknown>]> = [
        ["ping", () => down.ping()],
        ["enqueue", () => down.enqueue(jobData("c1"))],
        ["current", () => down.current("c1")],
        ["cancel", () => down.cancel("c1", "export")],
        ["history", () => down.history("c1")],
        ["lastImportFailure", () => down.lastImportFailure("c1")],
        ["forgetCell", () => down.forgetCell("c1")],
        ["counts", () => down.counts()],
      ];
      await Promise.all(
        calls.map(async ([name, call]) => {
          const started = Date.now();
          await expect(call(), name).rejects.toBeInstanceOf(QueueUnavailableError);
          expect(Date.now() - started, name).toBeLessThan(1_500);
        }),
      );
    } finally {
      await down.close();
    }
  });

  it("fails fast while a Redis that was up is down, and recovers when it is back", async () => {
    const port = await closedPort();
    let server = await startRedisServer(port);
    const flaky = createJobBackend({ redisUrl: `redis://127.0.0.1:${port}`, prefix });
    try {
      await flaky.ping();
      expect((await flaky.enqueue(jobData("c1"))).accepted).toBe(true);
      await stopRedisServer(server);

      const started = Date.now();
      await expect(flaky.current("c1")).rejects.toBeInstanceOf(QueueUnavailableError);
      await expect(flaky.enqueue(jobData("c2"))).rejects.toBeInstanceOf(QueueUnavailableError);
      expect(Date.now() - started).toBeLessThan(3_000);

      server = await startRedisServer(port);
      await waitFor(
        () =>
          flaky.ping().then(
            () => true,
            () => false,
          ),
        { what: "reconnect" },
      );
      expect((await flaky.enqueue(jobData("c2"))).accepted).toBe(true);
    } finally {
      await flaky.close();
      await stopRedisServer(server);
    }
  });

  it("refuses calls after close", async () => {
    const other = createJobBackend({ redisUrl: TEST_REDIS_URL, prefix });
    await other.ping();
    await other.close();
    await other.close();
    await expect(other.ping()).rejects.toBeInstanceOf(QueueUnavailableError);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0 });
  probe.on("error", () => {});
  try {
    await waitFor(
      () =>
        probe.connect().then(
          () => probe.ping(),
          () => null,
        ),
      { what: "redis-server" },
    );
  } finally {
    probe.disconnect();
  }
  return child;
}

async function stopRedisServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}
