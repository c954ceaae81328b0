/**
 * What the api needs from the outside world. `main.ts` builds these from the process
 * config; tests build them from a temp dir, a Redis prefix and a silent logger.
 */

import type { JobBackend, QueueDashboardSource } from "@cellport/queue";
import type { SnapshotLimits } from "@cellport/snapshot";
import type { CellStore } from "@cellport/store";
import type { Logger } from "pino";
import type { ApiMetrics } from "./metrics/api-metrics.ts";

export interface AppConfig {
  /** Advertised unit base URL (`Location`, manifests, hrefs); null → derived from each request. */
  baseUrl: string | null;
  /** The unit master token; null disables it (cell tokens only). */
  masterToken: string | null;
  /** HS256 key of cell tokens, and the root of the p_cookie key. */
  tokenSecret: string;
  /** `X-Personium-Version` on every response (spec §2.2). */
  personiumVersion: string;
  /** Largest PUT body (box files, snapshot files): 413 beyond it. */
  maxUploadBytes: number;
  /** Largest JSON / XML request body: 413 beyond it. */
  maxJsonBytes: number;
  /** Bounds on snapshot archives checked before an import's 202; unset → the snapshot package's defaults. */
  snapshotLimits?: Partial<SnapshotLimits>;
  /** `GET /metrics` needs the master token; default false (Prometheus endpoints usually do not). */
  metricsTokenRequired?: boolean;
}

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency is usable; throws otherwise. */
  check(): Promise<void>;
}

export interface AppDeps {
  store: CellStore;
  jobs: JobBackend;
  logger: Logger;
  config: AppConfig;
  readiness: ReadinessCheck[];
  /** The process's metrics; absent → the app makes its own (tests). */
  metrics?: ApiMetrics;
  /** The queue dashboard's view of the queue; absent → no dashboard at `/admin/queues`. */
  queueDashboard?: QueueDashboardSource;
}

export const DEFAULT_PERSONIUM_VERSION = "1.7.21";
