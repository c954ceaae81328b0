/**
 * The load test's report: what was run, what was measured, and the verdict. One
 * plain object, written as JSON and rendered as Markdown and SVG; the verdict is
 * computed from it alone (verdict.ts), so a saved report can be re-judged.
 */
import type { Summary } from "../stats.ts";

export interface TimelinePoint {
  /** Seconds since the start. */
  t: number;
  /** Exports accepted and not yet seen ready. */
  inFlight: number;
  /** Exports finished (any outcome) up to this point. */
  finished: number;
  /** Status latency within this second (null when there was no poll). */
  statusP50: number | null;
  statusP99: number | null;
  statusMax: number | null;
}

export interface LostExport {
  cell: string;
  name: string;
  /** `lost`: accepted but no snapshot, no error, no history; `stuck`: still in progress at the end. */
  kind: "lost" | "stuck";
  detail: string;
}

export interface LoadtestReport {
  tool: "cellport loadtest";
  startedAt: string;
  finishedAt: string;
  target: string;
  model: { kind: "closed"; concurrency: number } | { kind: "open"; rate: number };
  settings: {
    durationMs: number;
    maxExports: number;
    pollers: number;
    pollIntervalMs: number;
    drainTimeoutMs: number;
    mix: string[];
    verify: boolean;
  };
  cells: Array<{ name: string; seeded: boolean; expectedEntries: number | null }>;
  /** From the first POST to the last export's end (the drain included). */
  wallMs: number;
  exports: {
    launched: number;
    accepted: number;
    /** POSTs refused (409 etc.): they never started. */
    refused: number;
    /** Open model: launches skipped because every cell was busy. */
    skipped: number;
    completed: number;
    failed: number;
    cancelled: number;
    lost: number;
    stuck: number;
    verified: number;
    verifyFailures: number;
    /** Completed exports per second of wall time. */
    perSecond: number;
  };
  timeToReadyMs: Summary;
  statusLatencyMs: Summary;
  requests: {
    total: number;
    byStatus: Record<string, number>;
    byOp: Record<string, Record<string, number>>;
  };
  errors: { total: number; byStatus: Record<string, number>; samples: string[] };
  conflicts: { total: number; byOp: Record<string, number> };
  /** Writes or imports accepted while an export held the cell (spec §5). */
  lockViolations: number;
  nonMonotonic: { total: number; samples: string[] };
  peakInFlight: number;
  /** Jobs waiting to start at the worst moment (and, from the api metric, jobs running then). */
  peakQueueDepth: { value: number; active?: number; source: string };
  lostExports: LostExport[];
  verifyProblems: string[];
  timeline: TimelinePoint[];
  verdict: { pass: boolean; failures: string[] };
}

export interface Thresholds {
  /** Fail when the status p99 exceeds this (ms). */
  maxStatusP99Ms?: number | undefined;
  /** Fail when more unexpected errors were seen. */
  maxErrors: number;
  /** Fail when more exports were lost or stuck. */
  maxLost: number;
}
