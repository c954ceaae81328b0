/**
 * The BullMQ processor for cell jobs: dispatches on the job's kind, and turns the
 * outcome into the records clients read — `{Name}.error` and the history entry for
 * an export, the last-failure record for an import — *before* the job ends, so the
 * moment the status reads "ready" the outcome is already visible.
 *
 * Delivery is at-least-once. An attempt writes its own temp file (job id + attempt
 * number), publishes with one rename, and an attempt that finds `{Name}.zip`
 * stamped with its job id (a previous attempt committed, then died before
 * completing the job) finishes without redoing anything.
 */

import type { JobRecorder } from "@cellport/queue";
import { historyEntry, isFinalAttempt } from "@cellport/queue";
import type { Logger } from "@cellport/runtime";
import type {
  CellJobData,
  CellJobResult,
  ExportResult,
  ImportResult,
  PersoniumErrorBody,
} from "@cellport/shared";
import { PersoniumError } from "@cellport/shared";
import { AlreadyExistsError, type CellStore } from "@cellport/store";
import { type Job, UnrecoverableError, WaitingError } from "bullmq";
import { runExport } from "./export-pipeline.ts";
import { classifyFailure, JobCancelledError, UNKNOWN_ERROR_BODY } from "./failure.ts";
import { importRunner } from "./import-pipeline.ts";
import { type AttemptEnd, type JobObserver, NO_JOB_OBSERVER } from "./job-observer.ts";
import { exportComment, readZipTrailer } from "./zip-trailer.ts";

export type CellJob = Job<CellJobData, CellJobResult>;

/** What an import pipeline gets (the default runner is import-pipeline.ts's; tests may pass another). */
export interface ImportInput {
  store: CellStore;
  cell: string;
  /** Snapshot `Name` (the file is `{name}.zip` in the cell's snapshot area). */
  name: string;
  /** The unit URL the imported cell now lives under (rewrites the manifest's `unit_url`). */
  unitUrl: string;
  attemptKey: string;
  signal: AbortSignal;
  onProgress: (percent: number) => Promise<void>;
  logger: Logger;
}

export type ImportRunner = (input: ImportInput) => Promise<ImportResult>;

export interface ProcessorDeps {
  store: CellStore;
  recorder: JobRecorder;
  logger: Logger;
  /** True when a cancel of this job was requested (checked before any work). */
  isCancelRequested(jobId: string): Promise<boolean>;
  /**
   * Temp files older than this are swept before each attempt and after one that did not
   * complete: left by an attempt whose worker died. A live attempt rewrites its temp
   * file continuously.
   */
  tempMaxAgeMs: number;
  runImport?: ImportRunner;
  progressIntervalMs?: number;
  /** Told how attempts start and end (metrics); nothing by default. */
  observer?: JobObserver;
}

/**
 * A processor for one job: its attempt's abort signal (cancel, shutdown, lost lock)
 * and BullMQ's lock token (to hand an abandoned job back to the wait list).
 */
export type CellJobProcessor = (job: CellJob, signal: AbortSignal, token?: string) => Promise<CellJobResult>;

/** Errors the processor already recorded, so the worker's `failed` listener does not record them twice. */
const recorded = new WeakSet<object>();

export function isRecordedFailure(error: unknown): boolean {
  return typeof error === "object" && error !== null && recorded.has(error);
}

export function createCellJobProcessor(deps: ProcessorDeps): CellJobProcessor {
  const runImport = deps.runImport ?? importRunner;
  const observer = deps.observer ?? NO_JOB_OBSERVER;

  return async function processCellJob(job, signal, token) {
    const data = job.data;
    const jobId = job.id ?? "";
    const attemptKey = `${jobId}.${job.attemptsStarted}`;
    const logger = deps.logger.child({
      requestKey: data.requestKey,
      jobId,
      kind: data.kind,
      cell: data.cell,
      name: data.name,
      attempt: job.attemptsStarted,
    });
    const startedAt = Date.now();
    // A first attempt's start is logged at debug only: its end is logged anyway (at info
    // or above, "job completed" with durationMs), and a line per start was a good part
    // of a tiny export's logging cost. A retry's start is news.
    if (job.attemptsStarted > 1) logger.info("job attempt started");
    else logger.debug("job attempt started");
    observer.attemptStarted(data.kind);
    // What the observer hears if something throws outside the classified paths.
    let end: Omit<AttemptEnd, "durationSeconds"> = { outcome: "failed", code: UNKNOWN_ERROR_BODY.code };
    const onProgress = async (percent: number) => {
      await job.updateProgress(percent);
      observer.progressWritten(data.kind);
    };

    try {
      if (await deps.isCancelRequested(jobId)) throw new JobCancelledError("cancelled before it started");
      await sweep(data.cell, logger);
      // A retry starts over: its progress counts from 0, not from where the last attempt died.
      if (job.attemptsStarted > 1 && job.progress !== 0) await job.updateProgress(0);

      const result =
        data.kind === "export"
          ? await exportCell(job, attemptKey, signal, onProgress, logger)
          : await runImport({
              store: deps.store,
              cell: data.cell,
              name: data.name,
              unitUrl: data.unitUrl,
              attemptKey,
              signal,
              onProgress,
              logger,
            });
      const entry = historyEntry(data, "completed", {
        attempts: job.attemptsMade + 1,
        startedAt,
        ...(result.kind === "export" ? { size: result.size, sha256: result.sha256 } : {}),
      });
      await deps.recorder.recordHistory(data.cell, entry);
      if (data.kind === "import") await deps.recorder.clearImportFailure(data.cell);
      logger.info({ durationMs: entry.durationMs, ...result }, "job completed");
      end = { outcome: "completed", bytes: await archiveBytes(data, result) };
      return result;
    } catch (error) {
      const settled = await settleFailure(job, error, signal, token, startedAt, logger);
      end = settled.end;
      throw settled.error;
    } finally {
      // A completed attempt left nothing of its own, and the sweep before it took what
      // was old enough; a failed one may have (a temp file its abort could not remove).
      if (end.outcome !== "completed") await sweep(data.cell, logger);
      observer.attemptEnded(data.kind, { ...end, durationSeconds: (Date.now() - startedAt) / 1000 });
    }
  };

  /** The zip written (export), or the archive read (import: its result does not carry the size). */
  async function archiveBytes(data: CellJobData, result: CellJobResult): Promise<number> {
    if (result.kind === "export") return result.size;
    const archive = await deps.store.snapshots.stat(data.cell, `${data.name}.zip`).catch(() => null);
    return archive?.size ?? 0;
  }

  async function exportCell(
    job: CellJob,
    attemptKey: string,
    signal: AbortSignal,
    onProgress: (percent: number) => Promise<void>,
    logger: Logger,
  ): Promise<ExportResult> {
    const { cell, name, unitUrl } = job.data;
    const file = `${name}.zip`;
    const comment = exportComment(job.id ?? "");
    const earlier = () => committedEarlier(cell, file, comment, onProgress, logger);

    // A retry may find the snapshot an earlier attempt of its job committed just before
    // it died: nothing to redo then. A first attempt cannot; it meets any file holding
    // the name when it commits (the writer never replaces one), without a look first.
    if (job.attemptsStarted > 1) {
      const committed = await earlier();
      if (committed) return committed;
    }
    try {
      const result = await runExport({
        store: deps.store,
        cell,
        name,
        unitUrl,
        attemptKey,
        signal,
        onProgress,
        onProgressError: (error) => logger.warn({ err: error }, "progress update failed"),
        comment,
        ...(deps.progressIntervalMs !== undefined ? { progressIntervalMs: deps.progressIntervalMs } : {}),
      });
      return {
        kind: "export",
        file,
        size: result.size,
        sha256: result.sha256,
        etag: result.stat.etag,
        entries: result.entries,
      };
    } catch (error) {
      if (error instanceof AlreadyExistsError) {
        const committed = await earlier();
        if (committed) return committed;
      }
      throw error;
    }
  }

  /**
   * The result of this job's export when an earlier attempt of it committed `file`
   * (its job id is in the zip's comment); null when there is no `file`; PR409-DV-0002
   * when another file holds the name.
   */
  async function committedEarlier(
    cell: string,
    file: string,
    comment: string,
    onProgress: (percent: number) => Promise<void>,
    logger: Logger,
  ): Promise<ExportResult | null> {
    const existing = await deps.store.snapshots.stat(cell, file);
    if (!existing) return null;
    const trailer = await readZipTrailer(deps.store, cell, file, existing.size);
    if (trailer?.comment !== comment) throw new PersoniumError("PR409-DV-0002", [file]);
    logger.info("an earlier attempt of this job already committed the snapshot; keeping it");
    await onProgress(100).catch(() => {});
    return {
      kind: "export",
      file,
      size: existing.size,
      sha256: existing.sha256 ?? "",
      etag: existing.etag,
      entries: trailer.entries,
    };
  }

  /**
   * Records what the failure means for clients and returns the error to hand to
   * BullMQ — UnrecoverableError for "do not retry", the original for "retry" — and
   * how the attempt ended, for the observer.
   */
  async function settleFailure(
    job: CellJob,
    error: unknown,
    signal: AbortSignal,
    token: string | undefined,
    startedAt: number,
    logger: Logger,
  ): Promise<{ error: Error; end: Omit<AttemptEnd, "durationSeconds"> }> {
    const failure = classifyFailure(error, signal);
    const original = error instanceof Error ? error : new Error(String(error));
    switch (failure.kind) {
      case "abandoned":
        // Back to the wait list without spending an attempt; if the lock is already
        // someone else's this fails, and the job is theirs anyway. WaitingError tells
        // BullMQ the job was moved and there is nothing more to do with it.
        if (token) {
          await job.moveToWait(token).catch((e: unknown) => logger.debug({ err: e }, "moveToWait refused"));
        }
        logger.warn({ reason: failure.reason }, "job attempt abandoned; it will run again");
        return { error: new WaitingError(), end: { outcome: "abandoned" } };
      case "cancelled": {
        const entry = historyEntry(job.data, "cancelled", { attempts: job.attemptsMade + 1, startedAt });
        await deps.recorder
          .recordHistory(job.data.cell, entry)
          .catch((e: unknown) => logger.error({ err: e }, "could not record the cancellation"));
        logger.info("job cancelled");
        return { error: markRecorded(new UnrecoverableError("cancelled")), end: { outcome: "cancelled" } };
      }
      case "permanent":
        logger.error({ err: original, code: failure.body.code }, "job failed permanently");
        await recordJobFailure(deps, job, failure.body, { startedAt, logger });
        return {
          error: markRecorded(new UnrecoverableError(original.message)),
          end: { outcome: "failed", code: failure.body.code },
        };
      case "retryable":
        if (!isFinalAttempt(job)) {
          logger.warn(
            { err: original, attemptsMade: job.attemptsMade + 1 },
            "job attempt failed; will retry",
          );
          return { error: original, end: { outcome: "retrying", code: failure.body.code } };
        }
        logger.error({ err: original }, "job failed after its last attempt");
        await recordJobFailure(deps, job, failure.body, { startedAt, logger });
        return { error: markRecorded(original), end: { outcome: "failed", code: failure.body.code } };
    }
  }

  async function sweep(cell: string, logger: Logger): Promise<void> {
    try {
      const removed = await deps.store.snapshots.sweepTemp(cell, deps.tempMaxAgeMs);
      if (removed > 0) logger.info({ removed }, "swept temp files of dead attempts");
    } catch (error) {
      logger.warn({ err: error }, "could not sweep temp files");
    }
  }
}

/**
 * A job's final failure, as clients see it: `{Name}.error` and a failed history entry
 * for an export; the last-failure record and a history entry for an import (an
 * import's `{Name}.zip` is the source, so no `.error` beside it). Each step runs even
 * if another fails. Also used by the worker for failures BullMQ decides without the
 * processor (a job that stalled too often).
 */
export async function recordJobFailure(
  deps: Pick<ProcessorDeps, "store" | "recorder">,
  job: CellJob,
  body: PersoniumErrorBody,
  options: { startedAt?: number; logger: Logger },
): Promise<void> {
  const { cell, name, kind } = job.data;
  const steps: Array<[string, () => Promise<void>]> = [
    [
      "history",
      () =>
        deps.recorder.recordHistory(
          cell,
          historyEntry(job.data, "failed", {
            attempts: job.attemptsMade + 1,
            error: body,
            ...(options.startedAt !== undefined ? { startedAt: options.startedAt } : {}),
          }),
        ),
    ],
  ];
  if (kind === "export") {
    steps.unshift([".error file", () => deps.store.snapshots.writeError(cell, name, body)]);
  } else {
    const progress = typeof job.progress === "number" ? job.progress : 0;
    steps.unshift([
      "import failure",
      () =>
        deps.recorder.recordImportFailure(cell, {
          name,
          acceptedAt: job.data.acceptedAt,
          progress,
          error: body,
        }),
    ]);
  }
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      options.logger.error({ err: error, step: what }, "could not record the job's failure");
    }
  }
}

function markRecorded<E extends Error>(error: E): E {
  recorded.add(error);
  return error;
}
