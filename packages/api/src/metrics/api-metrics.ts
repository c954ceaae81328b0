/**
 * Every Prometheus metric the api process exposes, defined here and nowhere else.
 * Label values are bounded sets, so no client can blow up the series count:
 * `route` is the Hono route pattern that answered (`/:cell/__export`), never the raw
 * path; `method` folds anything unusual (X-HTTP-Method-Override can send any word)
 * into OTHER; `status` is a three-digit code.
 */
import { JOB_COUNT_STATES, type JobBackend } from "@cellport/queue";
import { createMetricsRegistry } from "@cellport/runtime";
import { Gauge, Histogram, type Registry } from "prom-client";

/** Requests that ended before routing (bad request key, CORS preflight) have no route. */
export const NO_ROUTE = "(none)";

const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PATCH",
  "PROPFIND",
  "PROPPATCH",
  "MKCOL",
  "MOVE",
  "COPY",
  "REPORT",
]);

/** Quick probes to hour-long snapshot downloads. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Counts are read at most this often: Prometheus scrapes every few seconds, and a
 * burst of scrapes (several Prometheus servers, a human with curl) should cost Redis
 * one round trip, not one each.
 */
const COUNTS_MAX_AGE_MS = 1_000;

export interface RequestObservation {
  /** The effective method (after X-HTTP-Method-Override). */
  method: string;
  /** The Hono pattern that answered, or null when the request ended before routing. */
  route: string | null;
  status: number;
  seconds: number;
}

export interface ApiMetrics {
  readonly registry: Registry;
  observeRequest(observation: RequestObservation): void;
}

export function createApiMetrics(options: { jobs: Pick<JobBackend, "counts"> }): ApiMetrics {
  const registry = createMetricsRegistry();
  const registers = [registry];

  const duration = new Histogram({
    name: "cellport_http_request_duration_seconds",
    help: "HTTP requests by route pattern, method and status: time until the response headers",
    labelNames: ["method", "route", "status"] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers,
  });

  let last: { at: number; counts: Promise<Awaited<ReturnType<JobBackend["counts"]>> | null> } | undefined;
  /** One read per scrape (both gauges share it); null when Redis did not answer. */
  function readCounts() {
    if (!last || Date.now() - last.at > COUNTS_MAX_AGE_MS) {
      last = { at: Date.now(), counts: options.jobs.counts().catch(() => null) };
    }
    return last.counts;
  }

  new Gauge({
    name: "cellport_queue_jobs",
    help: "Jobs in the queue by state, read from Redis at scrape time (completed/failed: as retained)",
    labelNames: ["state"] as const,
    registers,
    async collect() {
      const counts = await readCounts();
      // No samples rather than stale or zero ones when Redis is away: cellport_queue_up says why.
      this.reset();
      if (counts) for (const state of JOB_COUNT_STATES) this.set({ state }, counts[state]);
    },
  });
  new Gauge({
    name: "cellport_queue_up",
    help: "1 when this scrape could read the queue's counts from Redis, else 0",
    registers,
    async collect() {
      this.set((await readCounts()) ? 1 : 0);
    },
  });

  return {
    registry,
    observeRequest({ method, route, status, seconds }) {
      const upper = method.toUpperCase();
      duration.observe(
        {
          method: KNOWN_METHODS.has(upper) ? upper : "OTHER",
          route: route ?? NO_ROUTE,
          status: String(status),
        },
        seconds,
      );
    },
  };
}
