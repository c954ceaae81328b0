/**
 * The job backend as the api sees it: domain operations on "the cell's job", not
 * Redis verbs. The BullMQ implementation (`createJobBackend`) is the only one; tests
 * run it against real Redis with a unique prefix.
 */
import type { CellJobData, CurrentJob, ImportFailure, JobHistoryEntry } from "@cellport/shared";

/**
 * The queue states a depth gauge reports, by BullMQ's names ("waiting-children" is
 * left out: cell jobs have no children).
 */
export const JOB_COUNT_STATES = [
  "waiting",
  "active",
  "delayed",
  "prioritized",
  "failed",
  "completed",
] as const;
export type JobCountState = (typeof JOB_COUNT_STATES)[number];
export type JobCounts = Record<JobCountState, number>;

export type EnqueueResult =
  | { accepted: true; jobId: string }
  | { accepted: false; holder: CurrentJob | null };

export interface JobBackend {
  /**
   * Atomically enqueues the cell's job unless the cell already has one queued or
   * running (export or import). Under any number of concurrent calls for one cell,
   * exactly one is accepted. Resolves only once the job is durably in Redis.
   */
  enqueue(data: CellJobData): Promise<EnqueueResult>;
  /** The cell's queued or running job, or null, read from Redis: the cell lock. */
  current(cell: string): Promise<CurrentJob | null>;
  /**
   * The same for the polled status endpoints: an in-progress answer may come from this
   * process's memory, at most the status max age old; "nothing running" never does
   * (status-cache.ts says why that keeps every promise of the status endpoints).
   */
  status(cell: string): Promise<CurrentJob | null>;
  /**
   * True when this process saw, within the status max age, that the cell has a job in
   * progress — so the cell exists (a cell with a job cannot be deleted). Never reads Redis.
   */
  holdsJob(cell: string): boolean;
  /**
   * Cancels the cell's queued or running export (from any process; the worker may be
   * on another machine). Resolves true once the job no longer holds the cell, false
   * when there was nothing to cancel.
   */
  cancel(cell: string, kind: CellJobData["kind"]): Promise<boolean>;
  /** Newest first. */
  history(cell: string, limit?: number): Promise<JobHistoryEntry[]>;
  lastImportFailure(cell: string): Promise<ImportFailure | null>;
  /** Forgets everything about a deleted cell (history, last failure). */
  forgetCell(cell: string): Promise<void>;
  /**
   * How many jobs the queue holds in each state, read now (metrics scrape it).
   * `completed` and `failed` count what BullMQ still retains, not all time.
   */
  counts(): Promise<JobCounts>;
  /** Throws QueueUnavailableError when Redis does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Redis cannot be reached (or did not answer in time): the api answers 503 PR503-SV-0001. */
export class QueueUnavailableError extends Error {
  constructor(message = "the queue backend cannot be reached", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "QueueUnavailableError";
  }
}
