/**
 * The worker's one decision about a failed attempt: what happened, whether another
 * attempt can help, and the Personium body that describes it. Classified once, here.
 */
import { errorBody, PersoniumError, type PersoniumErrorBody } from "@cellport/shared";
import { CellNotFoundError, InvalidNameError, InvalidPathError } from "@cellport/store";
import { UnrecoverableError } from "bullmq";

/** Abort reason: a client cancelled the job (DELETE `__export`). */
export class JobCancelledError extends Error {
  constructor(message = "cancelled on request") {
    super(message);
    this.name = "JobCancelledError";
  }
}

/**
 * Abort reason: this worker is stopping (shutdown deadline passed) or lost the job's
 * lock. The attempt is abandoned without a verdict: the job stays active in Redis
 * until stalled-job detection hands it to another worker.
 */
export class AttemptAbandonedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AttemptAbandonedError";
  }
}

export type Failure =
  /** Nothing to record; the job is picked up again elsewhere. */
  | { kind: "abandoned"; reason: string }
  | { kind: "cancelled" }
  /** Another attempt cannot help: fail the job now. */
  | { kind: "permanent"; body: PersoniumErrorBody }
  /** I/O, Redis, anything unexpected: BullMQ retries with backoff until the attempts run out. */
  | { kind: "retryable"; body: PersoniumErrorBody };

/** The body written into `.error` files for anything unexpected (spec §3.3). */
export const UNKNOWN_ERROR_BODY = errorBody("PR500-SV-0000");

export function classifyFailure(error: unknown, signal?: AbortSignal): Failure {
  // The abort reason wins over whatever error the aborted streams threw.
  const cause = signal?.aborted ? signal.reason : error;
  if (cause instanceof AttemptAbandonedError) return { kind: "abandoned", reason: cause.message };
  if (cause instanceof JobCancelledError || error instanceof JobCancelledError) return { kind: "cancelled" };
  if (error instanceof PersoniumError) return { kind: "permanent", body: error.toBody() };
  if (error instanceof CellNotFoundError) return { kind: "permanent", body: errorBody("PR404-DV-0003") };
  if (
    error instanceof InvalidNameError ||
    error instanceof InvalidPathError ||
    error instanceof UnrecoverableError
  ) {
    return { kind: "permanent", body: UNKNOWN_ERROR_BODY };
  }
  return { kind: "retryable", body: UNKNOWN_ERROR_BODY };
}
