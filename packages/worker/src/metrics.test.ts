/**
 * The worker's metrics: the prom-client observer on its own, then fed by a real
 * worker (real Redis, real store) and read through a real metrics server.
 */
import { createJobBackend, type JobBackend } from "@cellport/queue";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix, waitFor } from "@cellport/queue/testing";
import { createLogger } from "@cellport/runtime";
import type { CellJobData } from "@cellport/shared";
import { CellNotFoundError } from "@cellport/store";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkerMetrics } from "./metrics.ts";
import { startMetricsServer } from "./metrics-server.ts";
import { createTempStore, seedCell, type TempStore } from "./test-fixtures.ts";
import { createCellWorker } from "./worker.ts";

const logger = createLogger({ level: "silent", name: "metrics-test" });

/** The value of one sample line of Prometheus text (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("createWorkerMetrics", () => {
  it("turns attempts into counters, a histogram and a gauge, with zeros from the start", async () => {
    const { registry, observer } = createWorkerMetrics();
    let text = await registry.metrics();
    expect(sample(text, 'cellport_jobs_active{kind="export"}')).toBe(0);
    expect(sample(text, 'cellport_job_bytes_total{kind="import"}')).toBe(0);
    expect(sample(text, 'cellport_job_progress_writes_total{kind="export"}')).toBe(0);

    observer.attemptStarted("export");
    observer.attemptStarted("import");
    observer.progressWritten("export");
    observer.progressWritten("export");
    text = await registry.metrics();
    expect(sample(text, 'cellport_jobs_active{kind="export"}')).toBe(1);
    expect(sample(text, 'cellport_job_progress_writes_total{kind="export"}')).toBe(2);

    observer.attemptEnded("export", { outcome: "completed", bytes: 1234, durationSeconds: 3 });
    observer.attemptEnded("import", { outcome: "failed", code: "PR400-MC-9005", durationSeconds: 0.2 });
    text = await registry.metrics();
    expect(sample(text, 'cellport_jobs_active{kind="export"}')).toBe(0);
    expect(sample(text, 'cellport_jobs_active{kind="import"}')).toBe(0);
    expect(sample(text, 'cellport_job_bytes_total{kind="export"}')).toBe(1234);
    expect(sample(text, 'cellport_job_attempts_total{kind="export",outcome="completed",code=""}')).toBe(1);
    expect(
      sample(text, 'cellport_job_attempts_total{kind="import",outcome="failed",code="PR400-MC-9005"}'),
    ).toBe(1);
    expect(
      sample(text, 'cellport_job_duration_seconds_bucket{le="2.5",kind="export",outcome="completed"}'),
    ).toBe(0);
    expect(
      sample(text, 'cellport_job_duration_seconds_bucket{le="5",kind="export",outcome="completed"}'),
    ).toBe(1);
    expect(sample(text, 'cellport_job_duration_seconds_count{kind="import",outcome="failed"}')).toBe(1);
    // prom-client's default process metrics, event-loop delay among them.
    expect(text).toContain("nodejs_eventloop_lag_seconds");
    expect(text).toContain("process_resident_memory_bytes");
  });

  it("keeps each registry to itself (two workers in one process do not collide)", async () => {
    const a = createWorkerMetrics();
    const b = createWorkerMetrics();
    a.observer.attemptStarted("export");
    expect(sample(await b.registry.metrics(), 'cellport_jobs_active{kind="export"}')).toBe(0);
  });
});

describe("a real worker's metrics", () => {
  const prefix = uniquePrefix("worker-metrics");
  let admin: Redis;
  let backend: JobBackend;
  let fixture: TempStore;

  beforeAll(async () => {
    admin = new Redis(TEST_REDIS_URL);
    backend = createJobBackend({ redisUrl: TEST_REDIS_URL, prefix });
    fixture = await createTempStore();
  });

  afterAll(async () => {
    await backend?.close();
    await fixture?.cleanup();
    await deleteKeys(admin, prefix);
    await admin?.quit();
  });

  function exportJob(cell: string, name: string): CellJobData {
    return {
      kind: "export",
      cell,
      name,
      acceptedAt: new Date().toISOString(),
      requestKey: "rk_metrics",
      unitUrl: "http://localhost:8080/",
    };
  }

  async function runToEnd(cell: string, name: string): Promise<void> {
    const result = await backend.enqueue(exportJob(cell, name));
    if (!result.accepted) throw new Error("not accepted");
    await waitFor(async () => (await backend.current(cell)) === null, { what: `${cell} to be ready` });
  }

  it("counts a completed export (bytes, progress writes) and a failed one (its code), served over HTTP", async () => {
    const metrics = createWorkerMetrics();
    const server = await startMetricsServer({ source: metrics.registry, port: 0, host: "127.0.0.1", logger });
    await seedCell(fixture.store, "m1", { bigFileBytes: 256 * 1024 });
    await seedCell(fixture.store, "m2");
    const worker = await createCellWorker({
      redisUrl: TEST_REDIS_URL,
      prefix,
      // m2 fails for good (PR404-DV-0003); m1 exports normally.
      store: {
        ...fixture.store,
        exportEntries: (cell) =>
          cell === "m2" ? Promise.reject(new CellNotFoundError("gone")) : fixture.store.exportEntries(cell),
      },
      logger,
      concurrency: 1,
      progressIntervalMs: 0,
      observer: metrics.observer,
    });
    try {
      await runToEnd("m1", "snap");
      await runToEnd("m2", "snap");

      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      const zip = await fixture.store.snapshots.stat("m1", "snap.zip");
      expect(zip?.size).toBeGreaterThan(0);
      expect(sample(text, 'cellport_job_bytes_total{kind="export"}')).toBe(zip?.size);
      expect(sample(text, 'cellport_job_progress_writes_total{kind="export"}')).toBeGreaterThanOrEqual(2);
      expect(sample(text, 'cellport_job_attempts_total{kind="export",outcome="completed",code=""}')).toBe(1);
      expect(
        sample(text, 'cellport_job_attempts_total{kind="export",outcome="failed",code="PR404-DV-0003"}'),
      ).toBe(1);
      expect(sample(text, 'cellport_job_duration_seconds_count{kind="export",outcome="completed"}')).toBe(1);
      expect(sample(text, 'cellport_jobs_active{kind="export"}')).toBe(0);
    } finally {
      await worker.close(2_000);
      await server.close();
    }
  });
});
