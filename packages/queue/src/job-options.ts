/**
 * How a cell job is stored and retried. One place, used by the producer when it adds
 * a job and by the worker when it decides whether an attempt is the last one.
 */
import { randomUUID } from "node:crypto";
import type { JobKind } from "@cellport/shared";
import type { DefaultJobOptions, QueueOptions } from "bullmq";

/** Attempts per job: a retryable failure (I/O, Redis) is tried again with backoff. */
export const JOB_ATTEMPTS = 3;

const WEEK_SECONDS = 7 * 24 * 3600;

export const JOB_OPTIONS = {
  attempts: JOB_ATTEMPTS,
  backoff: { type: "exponential", delay: 1_000 },
  // Finished jobs are only kept for inspection: the status reads the dedup key, and
  // the outcome lives in the history list. Bounded so Redis does not grow forever.
  removeOnComplete: { age: WEEK_SECONDS, count: 1_000 },
  removeOnFail: { age: WEEK_SECONDS, count: 1_000 },
  stackTraceLimit: 5,
} as const satisfies DefaultJobOptions;

/** Queue-level settings: the shared events stream is capped well below BullMQ's 10k default. */
export const QUEUE_STREAMS: QueueOptions["streams"] = { events: { maxLen: 1_000 } };

/**
 * A fresh job id. We choose it (rather than BullMQ's counter) so that `add` tells us
 * whether it was deduplicated: a duplicate returns the holder's id, not ours. Custom
 * ids must not be integers nor contain `:`.
 */
export function newJobId(kind: JobKind): string {
  return `${kind}-${randomUUID()}`;
}

/** True when the attempt that just failed with a retryable error was the job's last. */
export function isFinalAttempt(job: { attemptsMade: number; opts: { attempts?: number } }): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}
