/**
 * Every Prometheus metric the worker process exposes, defined here and nowhere
 * else, and the `JobObserver` that feeds them from the processor. Labels are bounded
 * sets: `kind` (export, import), `outcome` (job-observer.ts), `code` (Personium
 * error codes, shared/errors.ts; "" when there is none).
 */
import { createMetricsRegistry } from "@cellport/runtime";
import type { JobKind } from "@cellport/shared";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { JobObserver } from "./job-observer.ts";

/** From a tiny cell (well under a second) to a many-GB one (hours). */
export const JOB_DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

export interface WorkerMetrics {
  readonly registry: Registry;
  readonly observer: JobObserver;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = createMetricsRegistry();
  const registers = [registry];

  const duration = new Histogram({
    name: "cellport_job_duration_seconds",
    help: "Duration of job attempts run by this worker, by kind and outcome",
    labelNames: ["kind", "outcome"] as const,
    buckets: JOB_DURATION_BUCKETS,
    registers,
  });
  const attempts = new Counter({
    name: "cellport_job_attempts_total",
    help: "Job attempts that ended in this worker, by kind, outcome and Personium error code",
    labelNames: ["kind", "outcome", "code"] as const,
    registers,
  });
  const bytes = new Counter({
    name: "cellport_job_bytes_total",
    help: "Archive bytes of completed jobs: the zip written (export) or read (import)",
    labelNames: ["kind"] as const,
    registers,
  });
  const progressWrites = new Counter({
    name: "cellport_job_progress_writes_total",
    help: "Job progress writes sent to Redis (each one a round trip and an events-stream entry)",
    labelNames: ["kind"] as const,
    registers,
  });
  const active = new Gauge({
    name: "cellport_jobs_active",
    help: "Job attempts running in this worker now",
    labelNames: ["kind"] as const,
    registers,
  });

  // Every series exists from the start, so rate() and alerts see zeros rather than gaps.
  for (const kind of ["export", "import"] satisfies JobKind[]) {
    active.set({ kind }, 0);
    bytes.inc({ kind }, 0);
    progressWrites.inc({ kind }, 0);
  }

  const observer: JobObserver = {
    attemptStarted(kind) {
      active.inc({ kind });
    },
    attemptEnded(kind, end) {
      active.dec({ kind });
      duration.observe({ kind, outcome: end.outcome }, end.durationSeconds);
      attempts.inc({ kind, outcome: end.outcome, code: end.code ?? "" });
      if (end.bytes) bytes.inc({ kind }, end.bytes);
    },
    progressWritten(kind) {
      progressWrites.inc({ kind });
    },
  };
  return { registry, observer };
}
