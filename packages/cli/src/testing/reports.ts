/** Report fixtures for the load test's unit tests. */
import type { LoadtestReport } from "../loadtest/report.ts";
import { summarize } from "../stats.ts";

/** A clean run: 10 exports, all completed and verified. */
export function cleanReport(): Omit<LoadtestReport, "verdict"> {
  return {
    tool: "cellport loadtest",
    startedAt: "2024-01-01T00:00:00.000Z",
    finishedAt: "2024-01-01T00:00:15.000Z",
    target: "http://127.0.0.1:8080/",
    model: { kind: "closed", concurrency: 2 },
    settings: {
      durationMs: 15_000,
      maxExports: 10,
      pollers: 2,
      pollIntervalMs: 100,
      drainTimeoutMs: 60_000,
      mix: [],
      verify: true,
    },
    cells: [{ name: "c1", seeded: true, expectedEntries: 20 }],
    wallMs: 15_000,
    exports: {
      launched: 10,
      accepted: 10,
      refused: 0,
      skipped: 0,
      completed: 10,
      failed: 0,
      cancelled: 0,
      lost: 0,
      stuck: 0,
      verified: 10,
      verifyFailures: 0,
      perSecond: 0.67,
    },
    timeToReadyMs: summarize([900, 1000, 1100]),
    statusLatencyMs: summarize([2, 3, 4, 5, 12]),
    requests: {
      total: 100,
      byStatus: { "200": 90, "202": 10 },
      byOp: { "GET __export": { "200": 90 }, "POST __export": { "202": 10 } },
    },
    errors: { total: 0, byStatus: {}, samples: [] },
    conflicts: { total: 0, byOp: {} },
    lockViolations: 0,
    nonMonotonic: { total: 0, samples: [] },
    peakInFlight: 2,
    peakQueueDepth: { value: 2, source: "exports seen in progress at once" },
    lostExports: [],
    verifyProblems: [],
    timeline: [],
  };
}
