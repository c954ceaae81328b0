/**
 * The worker process's BullMQ side: a Worker on the cell-jobs queue running the
 * cell job processor, the cancel channel wired to one AbortController per running
 * attempt, and a close() that drains, then abandons, within a deadline.
 *
 * Stalled-job detection is BullMQ's: a worker that dies (SIGKILL) stops renewing
 * its jobs' locks; after `lockDurationMs`, the next stalled check (every
 * `stalledIntervalMs`, by any live worker) puts the job back in the wait list and
 * another worker runs it again. The processor makes that rerun safe.
 */
import {
  assertPrefixFits,
  type CancelListener,
  createJobRecorder,
  createRedisClient,
  DEFAULT_PREFIX,
  isCancelRequested,
  keysFor,
  listenForCancels,
  publishJobEnded,
  workerConnectionOptions,
} from "@cellport/queue";
import type { Logger } from "@cellport/runtime";
import { type CellJobData, type CellJobResult, QUEUE_NAME } from "@cellport/shared";
import type { CellStore } from "@cellport/store";
import { Queue } from "bullmq";
import { AttemptAbandonedError, JobCancelledError, UNKNOWN_ERROR_BODY } from "./failure.ts";
import type { JobObserver } from "./job-observer.ts";
import { OneDeliveryWorker } from "./one-delivery-worker.ts";
import {
  type CellJob,
  createCellJobProcessor,
  type ImportRunner,
  isRecordedFailure,
  recordJobFailure,
} from "./processor.ts";

export interface CellWorkerOptions {
  redisUrl: string;
  prefix?: string;
  store: CellStore;
  logger: Logger;
  /** Jobs this process runs at once. */
  concurrency?: number;
  /** Cap across all workers of the queue (BullMQ global concurrency); unset leaves the queue's setting alone. */
  globalConcurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) and still be retried. */
  maxStalledCount?: number;
  historyLimit?: number;
  /**
   * Temp files of the job's cell older than this are a dead attempt's and are swept
   * before each attempt and after one that did not complete. Default: the lock
   * duration. A live writer touches its file continuously; a dead attempt's file goes
   * at the first sweep after it is this old.
   */
  tempMaxAgeMs?: number;
  runImport?: ImportRunner;
  progressIntervalMs?: number;
  /** Hears how attempts start and end (the process's metrics). */
  observer?: JobObserver;
}

export interface CellWorker {
  readonly queue: string;
  readonly prefix: string;
  readonly concurrency: number;
  /**
   * Stops taking jobs and lets running ones finish for most of `deadlineMs`; then
   * abandons them (temp files removed, jobs handed back to the wait list) and closes
   * every connection. Idempotent; every step runs even if an earlier one throws.
   */
  close(deadlineMs?: number): Promise<void>;
}

const LOCK_RENEWAL_FAILURE = /could not renew lock for job (\S+)/;

export async function createCellWorker(options: CellWorkerOptions): Promise<CellWorker> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  assertPrefixFits(options.redisUrl, prefix);
  const concurrency = options.concurrency ?? 2;
  const lockDurationMs = options.lockDurationMs ?? 30_000;
  const { logger, store } = options;
  const onRedisError = (error: Error) => logger.warn({ err: error }, "redis connection error");
  // Template for BullMQ's own connections (it duplicates it) and our commands.
  const connection = createRedisClient(options.redisUrl, workerConnectionOptions(), onRedisError);
  const subscriber = connection.duplicate();
  subscriber.on("error", onRedisError);
  const recorder = createJobRecorder(connection, {
    prefix,
    ...(options.historyLimit !== undefined ? { historyLimit: options.historyLimit } : {}),
  });

  /** The attempts running in this process, by job id (one per job: see OneDeliveryWorker). */
  const running = new Map<string, AbortController>();
  function abortJob(jobId: string, reason: Error): boolean {
    const attempt = running.get(jobId);
    attempt?.abort(reason);
    return attempt !== undefined;
  }

  const processor = createCellJobProcessor({
    store,
    recorder,
    logger,
    isCancelRequested: (jobId) => isCancelRequested(connection, prefix, jobId),
    tempMaxAgeMs: options.tempMaxAgeMs ?? lockDurationMs,
    ...(options.runImport ? { runImport: options.runImport } : {}),
    ...(options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
  });

  const worker = new OneDeliveryWorker<CellJobData, CellJobResult>(
    QUEUE_NAME,
    async (job: CellJob, token?: string) => {
      const id = job.id ?? "";
      const controller = new AbortController();
      running.set(id, controller);
      try {
        return await processor(job, controller.signal, token);
      } finally {
        running.delete(id);
      }
    },
    {
      connection,
      prefix,
      concurrency,
      lockDuration: lockDurationMs,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 1,
      autorun: false,
    },
  );
  worker.onRedelivery = (jobId) => {
    abortJob(jobId, new AttemptAbandonedError("delivered again"));
    logger.warn({ jobId }, "job delivered again while an older delivery was in flight here; handing it back");
  };
  worker.onHandBackFailed = (jobId, error) =>
    logger.warn({ jobId, err: error }, "could not hand a redelivered job back; the stalled check will");

  worker.on("error", (error) => {
    const lost = LOCK_RENEWAL_FAILURE.exec(error.message);
    // Without its lock the job may already run elsewhere: stop this attempt rather than race it.
    if (lost?.[1] && abortJob(lost[1], new AttemptAbandonedError("lost the job's lock"))) {
      logger.warn({ jobId: lost[1] }, "lost the lock of a running job; abandoning this attempt");
      return;
    }
    logger.error({ err: error }, "worker error");
  });
  // BullMQ emits these once the end is in Redis: the api processes may now drop their
  // cached "in progress" of the cell and read "ready".
  const keys = keysFor(prefix);
  const announceEnd = (cell: string) =>
    publishJobEnded(connection, keys, cell).catch((e: unknown) =>
      logger.debug({ err: e, cell }, "could not announce a job's end"),
    );
  worker.on("completed", (job) => void announceEnd(job.data.cell));
  worker.on("failed", (job, error) => {
    // Only final failures carry finishedOn; a retried job still holds its cell.
    if (!job?.finishedOn) return;
    void announceEnd(job.data.cell);
    // Failures BullMQ decides without our processor (a job that stalled too often) still
    // owe clients a `.error` file and a history entry.
    if (isRecordedFailure(error)) return;
    const jobLogger = logger.child({ requestKey: job.data.requestKey, jobId: job.id, cell: job.data.cell });
    jobLogger.error({ err: error }, "job failed outside the processor");
    void recordJobFailure({ store, recorder }, job, UNKNOWN_ERROR_BODY, { logger: jobLogger });
  });
  worker.on("stalled", (jobId) => logger.warn({ jobId }, "job stalled; it will run again"));

  let cancelListener: CancelListener | undefined;
  try {
    cancelListener = await listenForCancels({
      subscriber,
      prefix,
      onCancel: (jobId) => {
        if (abortJob(jobId, new JobCancelledError())) logger.info({ jobId }, "cancel requested; aborting");
      },
      // Messages sent while the subscriber was reconnecting are lost; the keys are not.
      onResubscribed: () => {
        for (const jobId of running.keys()) {
          void isCancelRequested(connection, prefix, jobId).then(
            (cancelled) => cancelled && abortJob(jobId, new JobCancelledError()),
            () => {},
          );
        }
      },
    });
    if (options.globalConcurrency !== undefined) {
      const queue = new Queue(QUEUE_NAME, { connection, prefix });
      try {
        await queue.setGlobalConcurrency(options.globalConcurrency);
      } finally {
        await queue.close();
      }
    }
    await worker.waitUntilReady();
  } catch (error) {
    await closeQuietly();
    throw error;
  }
  const runLoop = worker.run().catch((error: unknown) => logger.error({ err: error }, "worker loop failed"));

  async function closeQuietly(): Promise<void> {
    await cancelListener?.close().catch(() => {});
    await worker.close(true).catch(() => {});
    subscriber.disconnect();
    connection.disconnect();
  }

  let closing: Promise<void> | undefined;
  async function close(deadlineMs = 10_000): Promise<void> {
    const problems: unknown[] = [];
    async function step(name: string, fn: () => Promise<unknown>): Promise<void> {
      try {
        await fn();
      } catch (error) {
        problems.push(error);
        logger.error({ err: error, step: name }, "worker close step failed");
      }
    }
    const abandonGraceMs = Math.min(2_000, Math.floor(deadlineMs / 4));

    await step("worker", async () => {
      const drained = worker.close();
      if (await settlesWithin(drained, deadlineMs - abandonGraceMs)) return;
      logger.warn({ running: running.size }, "shutdown deadline: abandoning running jobs");
      for (const jobId of [...running.keys()])
        abortJob(jobId, new AttemptAbandonedError("worker shutting down"));
      if (!(await settlesWithin(drained, abandonGraceMs))) {
        // The jobs' locks lapse and stalled-job detection hands them to another worker.
        await worker.disconnect();
        throw new Error(`worker did not close within ${deadlineMs} ms`);
      }
    });
    await step("run loop", () => settlesWithin(runLoop, 500));
    await step("cancel listener", async () => cancelListener?.close());
    await step("redis", async () => {
      await Promise.allSettled([subscriber.quit(), connection.quit()]);
      subscriber.disconnect();
      connection.disconnect();
    });
    if (problems.length > 0) throw new AggregateError(problems, "worker did not close cleanly");
  }

  return {
    queue: QUEUE_NAME,
    prefix,
    concurrency,
    close(deadlineMs) {
      closing ??= close(deadlineMs);
      return closing;
    },
  };
}

/** True when `promise` settled (either way) within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
