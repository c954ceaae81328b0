/**
 * Prometheus metrics of this api process (metrics/api-metrics.ts):
 *   GET /metrics → text exposition format
 *
 * Unauthenticated by default, as Prometheus endpoints usually are: it exposes counts
 * and route patterns, never a cell name, token or path. With
 * `CELLPORT_METRICS_TOKEN_REQUIRED=true` it needs the master token (Prometheus:
 * `authorization: { credentials: <token> }`), for deployments where the port is public.
 */
import { Hono } from "hono";
import { requireUnitMaster } from "../auth/middleware.ts";
import type { AppDeps } from "../deps.ts";
import type { AppEnv } from "../http/env.ts";
import { defineResource } from "../http/resource.ts";
import type { ApiMetrics } from "../metrics/api-metrics.ts";

export const METRICS_PATH = "/metrics";

export function createMetricsRoutes(deps: AppDeps, metrics: ApiMetrics): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  const tokenRequired = deps.config.metricsTokenRequired ?? false;
  defineResource(
    router,
    METRICS_PATH,
    {
      GET: {
        summary: "Prometheus metrics",
        description:
          "Request durations by route pattern, method and status; queue depth by state (read from Redis " +
          "at scrape time); process metrics. Needs the master token only when " +
          "`CELLPORT_METRICS_TOKEN_REQUIRED=true`.",
        responses: {
          200: {
            description: "Prometheus text exposition format 0.0.4",
            content: { [metrics.registry.contentType]: { type: "string" } },
          },
        },
        handler: async function prometheusMetrics(c) {
          return c.body(await metrics.registry.metrics(), 200, {
            "Content-Type": metrics.registry.contentType,
            "Cache-Control": "no-store",
          });
        },
      },
    },
    {
      guard: tokenRequired ? [requireUnitMaster(deps)] : [],
      doc: { tag: "operations", access: tokenRequired ? "unit-master" : "none" },
    },
  );
  return router;
}
