/**
 * The one way a process starts its Prometheus registry: its own registry (never
 * prom-client's global one, so several apps or workers in one test process never
 * collide) with prom-client's default process metrics — CPU, memory, handles, GC
 * and event-loop delay (`nodejs_eventloop_lag_*`, the figure stack.md asks to keep
 * ≤ 100 ms while zipping).
 */
import { collectDefaultMetrics, Registry } from "prom-client";

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
