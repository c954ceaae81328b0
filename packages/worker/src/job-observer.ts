/**
 * What the processor tells the outside world about its attempts, for metrics. An
 * interface rather than prom-client calls, so the processor and the pipelines stay
 * free of any metrics library (and tests can record calls); `metrics.ts` is the
 * prom-client implementation.
 */
import type { JobKind } from "@cellport/shared";

/**
 * How one attempt ended. `retrying`: it failed and BullMQ will run it again;
 * `abandoned`: handed back without a verdict (shutdown, lost lock); `failed`: the
 * job's final failure.
 */
export type AttemptOutcome = "completed" | "failed" | "retrying" | "cancelled" | "abandoned";

export interface AttemptEnd {
  outcome: AttemptOutcome;
  /** The Personium error code recorded for a failure (bounded: `shared/errors.ts`). */
  code?: string;
  /** A completed attempt's archive bytes: the zip written (export) or read (import). */
  bytes?: number;
  durationSeconds: number;
}

export interface JobObserver {
  /** An attempt starts running in this process. */
  attemptStarted(kind: JobKind): void;
  /** The attempt ended; called exactly once per `attemptStarted`, whatever happened. */
  attemptEnded(kind: JobKind, end: AttemptEnd): void;
  /** One progress write went to Redis (each costs a round trip and an events-stream entry). */
  progressWritten(kind: JobKind): void;
}

export const NO_JOB_OBSERVER: JobObserver = {
  attemptStarted() {},
  attemptEnded() {},
  progressWritten() {},
};
