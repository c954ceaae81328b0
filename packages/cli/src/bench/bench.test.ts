import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import autocannon from "autocannon";
import { describe, expect, it } from "vitest";
import type { CellportClient } from "../client/http-client.ts";
import { metricValue } from "../prometheus.ts";
import { drainAll, runFlows } from "./flow-bench.ts";
import { parseProcStatus } from "./proc-status.ts";
import { renderExportBench, renderFlowBench, renderStatusBench } from "./render.ts";
import { combineSlices, type SliceRun } from "./status-bench.ts";

describe("parseProcStatus", () => {
  it("reads VmHWM and VmRSS in bytes", () => {
    const text = "Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t  180224 kB\nVmRSS:\t  150000 kB\n";
    expect(parseProcStatus(text)).toEqual({ vmHwmBytes: 180224 * 1024, vmRssBytes: 150000 * 1024 });
    expect(parseProcStatus("")).toEqual({ vmHwmBytes: null, vmRssBytes: null });
  });
});

describe("benchmark tables", () => {
  it("puts the export beside zip and tar, with ratios", () => {
    const run = {
      cellportMs: 16_000,
      workerMs: 15_500,
      snapshotBytes: 140 * 1024 ** 2,
      zipMs: 14_000,
      zipBytes: 140 * 1024 ** 2,
      tarMs: 200,
      tarBytes: 207 * 1024 ** 2,
      peakRssBytes: 177 * 1024 ** 2,
      loopDelayP99Ms: 22.3,
      loopDelayMaxMs: 116,
    };
    const text = renderExportBench({
      profile: { boxes: 5, entitiesPerType: 500, files: 2000, bytes: 200 * 1024 ** 2, textRatio: 0.5 },
      runs: [run],
      median: run,
      cpus: 2,
    });
    expect(text).toContain("2000 files, 200.0 MiB (50% text)");
    expect(text).toMatch(/cellport export \(POST → ready\)\s+16\.00 s\s+140\.0 MiB\s+1\.14×\s+1\.00×/);
    expect(text).toMatch(/zip -r -q -6 -n … \(Info-ZIP\)\s+14\.00 s/);
    expect(text).toContain("worker peak RSS (VmHWM, during the export): 177.0 MiB");
    expect(text).toContain("p99 22.3 ms");
  });

  it("states the status ratio against its targets", () => {
    const figures = (rps: number, p99: number) => ({
      requestsPerSecond: rps,
      latencyMs: { p50: 5, p99, max: 50 },
      total: rps * 10,
      non2xx: 0,
      errors: 0,
    });
    const text = renderStatusBench({
      connections: 50,
      durationSeconds: 10,
      api: figures(7_000, 18),
      baseline: figures(10_000, 9),
      ratio: 0.7,
      apiCpuMicrosPerRequest: 41.23,
      slices: 5,
      backgroundExports: 4,
      targets: { ratio: 0.6, p99Ms: 20 },
      cpus: 2,
    });
    expect(text).toContain(
      "ratio: 70% of baseline (target ≥ 60%: met); api p99 18.0 ms (target ≤ 20 ms: met)",
    );
    expect(text).toMatch(/cellport api\s+7,000/);
    expect(text).toContain("api cpu per request: 41.2 µs");
    expect(text).toContain("10 s each (5 alternating slices)");
  });

  it("merges a side's slices: all their requests over all their time, one latency histogram", async () => {
    const server = createServer((_req, res) => res.end("{}"));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    const options = { url: `http://127.0.0.1:${port}/`, connections: 4, duration: 0.3 };
    try {
      const runs: SliceRun[] = [];
      for (let i = 0; i < 2; i++) {
        runs.push((await autocannon({ ...options, skipAggregateResult: true })) as unknown as SliceRun);
      }
      const total = (runs[0]?.totalCompletedRequests ?? 0) + (runs[1]?.totalCompletedRequests ?? 0);
      const merged = combineSlices(runs, options);
      expect(merged.total).toBe(total);
      expect(total).toBeGreaterThan(0);
      expect(merged.requestsPerSecond).toBeCloseTo(
        total / ((runs[0]?.duration ?? 0) + (runs[1]?.duration ?? 0)),
      );
      expect(merged.latencyMs.p99).toBeGreaterThanOrEqual(merged.latencyMs.p50);
      expect(merged.latencyMs.max).toBeGreaterThanOrEqual(merged.latencyMs.p99);
      expect([merged.non2xx, merged.errors]).toEqual([0, 0]);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });

  it("shows worker scaling and the drain", () => {
    const summary = { count: 10, min: 1, max: 9, mean: 5, p50: 5, p95: 9, p99: 9 };
    const loop = { warmupExports: 100, flows: 8, pollIntervalMs: 50, pollsPerExport: 2.5 };
    const cpu = { workers: 7.214, api: 2.1, redis: null, client: 1.19, total: 10.504 };
    const text = renderFlowBench({
      rounds: [
        {
          workers: 1,
          ...loop,
          exports: 10,
          ms: 1000,
          perSecond: 10,
          timeToReadyMs: summary,
          notCompleted: 0,
          cpuMsPerExport: cpu,
        },
        {
          workers: 2,
          ...loop,
          exports: 10,
          ms: 500,
          perSecond: 20,
          timeToReadyMs: summary,
          notCompleted: 0,
          cpuMsPerExport: cpu,
        },
      ],
      drain: { exports: 1000, workers: 2, ms: 40_000, perSecond: 25, completed: 1000, lost: 0 },
      cpus: 2,
    });
    expect(text).toContain(
      "8 closed-loop flows polling every 50 ms, each round after 100 uncounted warm-up exports",
    );
    expect(text).toMatch(/1 worker process\(es\)\s+10\s+1\.00 s\s+10\.0\s+5\.0 ms\s+9\.0 ms\s+2\.5\s+0/);
    expect(text).toContain("scaling: 2 workers: 2.00× of 1 worker");
    // An unknown figure (here Redis's) is left out, not shown as 0.
    expect(text).toContain(
      "cpu per export, 2 worker process(es): workers 7.21 ms, api 2.10 ms, bench client 1.19 ms — 10.50 ms in all",
    );
    expect(text).toContain(
      "drain: 1000 exports queued at once, 2 worker process(es): 40.00 s (25.0/s), 1000 completed, 0 lost",
    );
  });
});

describe("metricValue", () => {
  const text = [
    "# HELP nodejs_eventloop_lag_p99_seconds The 99th percentile of the recorded event loop delays.",
    "# TYPE nodejs_eventloop_lag_p99_seconds gauge",
    "nodejs_eventloop_lag_p99_seconds 0.0138",
    'cellport_queue_jobs{state="waiting"} 12',
    'cellport_queue_jobs{state="active"} 2',
    "nodejs_eventloop_lag_p99_seconds_extra 9",
  ].join("\n");

  it("reads a plain sample and a labelled one", () => {
    expect(metricValue(text, "nodejs_eventloop_lag_p99_seconds")).toBe(0.0138);
    expect(metricValue(text, "cellport_queue_jobs", { state: "active" })).toBe(2);
    expect(metricValue(text, "cellport_queue_jobs", { state: "delayed" })).toBeNull();
    expect(metricValue(text, "missing")).toBeNull();
  });
});

describe("bench flow gives up on a stuck export instead of hanging", () => {
  // An api whose exports never finish: every status poll says "in progress".
  const stuck = {
    startExport: async () => {},
    exportStatus: async () => ({ status: "exportation in progress", exportation_name: "n", progress: "0%" }),
  } as unknown as CellportClient;
  const io = { stdout: { write: () => true }, stderr: { write: () => true } };
  const signal = new AbortController().signal;

  it("a flow stops polling an export past the deadline: no time to ready recorded for it", async () => {
    const result = await runFlows(
      stuck,
      ["a", "b"],
      "n",
      { flows: 2, pollIntervalMs: 5, giveUpAfterMs: 50, signal },
      io,
      "flows",
    );
    expect(result.timeToReady).toEqual([]);
    expect(result.polls).toBeGreaterThan(2);
  });

  it("a drain stops when nothing finished for the deadline", async () => {
    const started = performance.now();
    await drainAll(stuck, ["a", "b"], "n", { giveUpAfterMs: 150, signal }, io, "drain");
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
