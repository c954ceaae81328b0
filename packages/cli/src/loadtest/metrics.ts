/**
 * What the load test counts while it runs: every request (by operation and status),
 * unexpected errors, status latency per second, exports in flight, and progress
 * regressions. Pure bookkeeping — the runner feeds it, `toReport` reads it.
 */
import type { RequestSample } from "../client/http-client.ts";
import { summarize } from "../stats.ts";
import { createMonotonicChecker } from "./monotonic.ts";
import type { TimelinePoint } from "./report.ts";

export const STATUS_OP = "GET __export";
const MAX_SAMPLES = 20;

export function createMetrics(startedAt: number) {
  const byOp = new Map<string, Map<string, number>>();
  const errorsByStatus = new Map<string, number>();
  const errorSamples: string[] = [];
  let errorTotal = 0;
  /** Status latency samples, bucketed by the second they were sent in. */
  const statusBuckets: number[][] = [];
  const statusLatencies: number[] = [];
  const timeToReady: number[] = [];
  const inFlightAt: Array<{ t: number; inFlight: number; finished: number }> = [];
  const monotonic = createMonotonicChecker();
  const regressionSamples: string[] = [];
  let inFlight = 0;
  let peakInFlight = 0;
  let finished = 0;

  function bump(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  return {
    monotonic,

    /** The client's observer: every request's outcome and latency. */
    sample(sample: RequestSample): void {
      let statuses = byOp.get(sample.op);
      if (!statuses) {
        statuses = new Map();
        byOp.set(sample.op, statuses);
      }
      bump(statuses, sample.status === 0 ? "network" : String(sample.status));
      if (sample.op === STATUS_OP && sample.status === 200) {
        statusLatencies.push(sample.ms);
        const second = Math.max(0, Math.floor((sample.sentAt - startedAt) / 1000));
        const bucket = statusBuckets[second] ?? [];
        bucket.push(sample.ms);
        statusBuckets[second] = bucket;
      }
    },

    /** An outcome the test did not expect (5xx, a wrong 4xx, a failed export, …). */
    error(kind: string, message: string): void {
      errorTotal++;
      bump(errorsByStatus, kind);
      if (errorSamples.length < MAX_SAMPLES) errorSamples.push(message);
    },

    progress(key: string, percent: number, sentAt: number, receivedAt: number): void {
      const regression = monotonic.observe({ key, percent, sentAt, receivedAt });
      if (regression && regressionSamples.length < MAX_SAMPLES) {
        regressionSamples.push(`${key}: ${regression.before}% then ${regression.after}%`);
      }
    },

    exportStarted(): void {
      inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
    },
    exportReady(key: string, timeToReadyMs: number | null): void {
      inFlight--;
      finished++;
      if (timeToReadyMs !== null) timeToReady.push(timeToReadyMs);
      monotonic.forget(key);
    },

    /** Called once a second by the runner. */
    tick(now: number): void {
      inFlightAt.push({ t: Math.round((now - startedAt) / 100) / 10, inFlight, finished });
    },

    get inFlight() {
      return inFlight;
    },
    get finished() {
      return finished;
    },
    get errorTotal() {
      return errorTotal;
    },

    /** The last few seconds' status p99, for the live line. */
    recentStatusP99(now: number): number {
      const second = Math.floor((now - startedAt) / 1000);
      const recent = [...(statusBuckets[second - 1] ?? []), ...(statusBuckets[second] ?? [])];
      return summarize(recent).p99;
    },

    snapshot() {
      const requestsByOp: Record<string, Record<string, number>> = {};
      const byStatus: Record<string, number> = {};
      let total = 0;
      const conflictsByOp: Record<string, number> = {};
      let conflicts = 0;
      for (const [op, statuses] of byOp) {
        requestsByOp[op] = Object.fromEntries(statuses);
        for (const [status, count] of statuses) {
          byStatus[status] = (byStatus[status] ?? 0) + count;
          total += count;
          if (status === "409") {
            conflictsByOp[op] = count;
            conflicts += count;
          }
        }
      }
      const timeline: TimelinePoint[] = inFlightAt.map((point) => {
        // The point at t covers the second before it (none for the start point).
        const bucket = summarize(point.t > 0 ? (statusBuckets[Math.ceil(point.t) - 1] ?? []) : []);
        return {
          ...point,
          statusP50: bucket.count ? bucket.p50 : null,
          statusP99: bucket.count ? bucket.p99 : null,
          statusMax: bucket.count ? bucket.max : null,
        };
      });
      return {
        requests: { total, byStatus, byOp: requestsByOp },
        errors: {
          total: errorTotal,
          byStatus: Object.fromEntries(errorsByStatus),
          samples: [...errorSamples],
        },
        conflicts: { total: conflicts, byOp: conflictsByOp },
        statusLatencyMs: summarize(statusLatencies),
        timeToReadyMs: summarize(timeToReady),
        nonMonotonic: { total: monotonic.regressions.length, samples: [...regressionSamples] },
        peakInFlight,
        timeline,
      };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
