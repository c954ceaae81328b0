/**
 * The BullMQ implementation of `JobBackend` (the api's side of the queue).
 *
 * One queue carries exports and imports; `deduplication: { id: cell }` makes "the
 * cell has a job" atomic in Redis: BullMQ's add script sets the dedup key with NX,
 * and the key is deleted in the same script that finishes (or removes) the job.
 */
import { type CellJobData, type CurrentJob, isInProgress, QUEUE_NAME } from "@cellport/shared";
import { Queue } from "bullmq";
import { requestCancel } from "./cancel.ts";
import {
  assertPrefixFits,
  createRedisClient,
  isConnectionError,
  producerConnectionOptions,
  waitForReady,
} from "./connection.ts";
import { holderId, readHolder, readJob } from "./current-job.ts";
import { publishJobEnded } from "./job-ended.ts";
import { JOB_OPTIONS, newJobId, QUEUE_STREAMS } from "./job-options.ts";
import { DEFAULT_PREFIX, keysFor } from "./keys.ts";
import {
  type EnqueueResult,
  JOB_COUNT_STATES,
  type JobBackend,
  type JobCounts,
  QueueUnavailableError,
} from "./port.ts";
import { createJobRecorder, historyEntry } from "./recorder.ts";
import { createStatusCache } from "./status-cache.ts";
import { createStatusFeed } from "./status-feed.ts";

/** Long enough to spare Redis most status reads, short enough to stay below any sane poll interval. */
export const DEFAULT_STATUS_MAX_AGE_MS = 100;

export interface JobBackendOptions {
  redisUrl: string;
  /** Key prefix; keep a hash tag in it for Redis Cluster. Default `{cellport}`. */
  prefix?: string;
  /** Entries kept per cell in the history list. */
  historyLimit?: number;
  /** Bound on waiting for a connection and on each Redis command. Default 1000 ms. */
  timeoutMs?: number;
  /** How long `cancel` waits for a running job to let go of its cell. Default 5000 ms. */
  cancelWaitMs?: number;
  /** Max age of an in-progress status served from memory; 0 reads Redis every time. Default 100 ms. */
  statusMaxAgeMs?: number;
}

/** Deduplicated adds retried when the holder finished between our add and our read of it. */
const ENQUEUE_TRIES = 3;
const CANCEL_POLL_MS = 50;

export function createJobBackend(options: JobBackendOptions): JobBackend {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  assertPrefixFits(options.redisUrl, prefix);
  const keys = keysFor(prefix);
  const timeoutMs = options.timeoutMs ?? 1_000;
  const cancelWaitMs = options.cancelWaitMs ?? 5_000;
  const redis = createRedisClient(options.redisUrl, producerConnectionOptions(timeoutMs));
  const recorder = createJobRecorder(redis, { prefix, historyLimit: options.historyLimit });
  let queuePromise: Promise<Queue<CellJobData>> | undefined;
  let closing: Promise<void> | undefined;
  const statusMaxAgeMs = options.statusMaxAgeMs ?? DEFAULT_STATUS_MAX_AGE_MS;
  const statusCache = createStatusCache({
    readFresh: (cell) => guard(() => current(cell)),
    maxAgeMs: statusMaxAgeMs,
  });
  const statusFeed = createStatusFeed({
    redis,
    channel: keys.jobEndedChannel,
    cache: statusCache,
    timeoutMs,
  });

  /** Tells every api process (this one first) that the cell's job ended. */
  async function announceJobEnded(cell: string): Promise<void> {
    statusCache.forget(cell);
    await publishJobEnded(redis, keys, cell);
  }

  /**
   * The BullMQ Queue, created once Redis first answered. BullMQ's connection setup
   * (version check) runs once and, if it fails, leaves the Queue unusable for good;
   * so a failed setup is dropped and redone on the next call.
   */
  function getQueue(): Promise<Queue<CellJobData>> {
    if (!queuePromise) {
      const queue = new Queue<CellJobData>(QUEUE_NAME, {
        connection: redis,
        prefix,
        defaultJobOptions: JOB_OPTIONS,
        streams: QUEUE_STREAMS,
      });
      // Connection errors surface through the calls; the event must not go unhandled.
      queue.on("error", () => {});
      const ready = queue.waitUntilReady().then(
        () => queue,
        async (error: unknown) => {
          queuePromise = undefined;
          await queue.close().catch(() => {});
          throw error;
        },
      );
      queuePromise = ready;
    }
    return withTimeout(queuePromise, timeoutMs);
  }

  /** Runs `operation` once Redis is ready; any connection failure becomes QueueUnavailableError. */
  async function guard<T>(operation: () => Promise<T>): Promise<T> {
    if (closing) throw new QueueUnavailableError("the job backend is closed");
    try {
      await waitForReady(redis, timeoutMs);
      return await operation();
    } catch (error) {
      if (error instanceof QueueUnavailableError) throw error;
      if (isConnectionError(error) || redis.status !== "ready") {
        throw new QueueUnavailableError(undefined, { cause: error });
      }
      throw error;
    }
  }

  async function current(cell: string): Promise<CurrentJob | null> {
    const { job } = await readHolder(redis, keys, cell);
    return job && isInProgress(job.state) ? job : null;
  }

  return {
    enqueue(data: CellJobData): Promise<EnqueueResult> {
      return guard(async () => {
        const queue = await getQueue();
        let holder: CurrentJob | null = null;
        for (let i = 0; i < ENQUEUE_TRIES; i++) {
          const jobId = newJobId(data.kind);
          let accepted = false;
          // What the add leaves is the cell's status: the status cache keeps it.
          holder = await statusCache.update(data.cell, async () => {
            const job = await queue.add(data.kind, data, { jobId, deduplication: { id: data.cell } });
            if (job.id === jobId) {
              accepted = true;
              return { state: "waiting", data, progress: 0 };
            }
            // Deduplicated: `job` carries *our* data, so read the holder's own.
            const found = job.id ? await readJob(redis, keys, job.id) : null;
            return found && isInProgress(found.state) ? found : null;
          });
          if (accepted) {
            // The failure of the previous import is shown until the next import starts (spec §4.2).
            if (data.kind === "import") await recorder.clearImportFailure(data.cell);
            return { accepted: true, jobId };
          }
          if (holder) return { accepted: false, holder };
          // The holder ended between the add and the read: the cell is free again.
        }
        return { accepted: false, holder };
      });
    },

    current(cell) {
      return guard(() => current(cell));
    },

    status(cell) {
      if (statusMaxAgeMs > 0) statusFeed.follow();
      return statusCache.read(cell);
    },

    holdsJob(cell) {
      return statusCache.holdsJob(cell);
    },

    cancel(cell, kind) {
      return guard(async () => {
        const { id, job } = await readHolder(redis, keys, cell);
        if (id === null || !job || !isInProgress(job.state) || job.data.kind !== kind) return false;

        if (job.state !== "active") {
          // Removal refuses a locked (running) job, so a job that just started falls through to the signal.
          const queue = await getQueue();
          const attempts = Number(await redis.hget(keys.bull(id), "atm")) || 0;
          if ((await queue.remove(id)) === 1) {
            await recorder.recordHistory(cell, historyEntry(job.data, "cancelled", { attempts }));
            await announceJobEnded(cell);
            return true;
          }
        }

        await requestCancel(redis, keys, id);
        const until = Date.now() + cancelWaitMs;
        while (Date.now() < until) {
          // The worker announces the end itself; this process must not wait for the echo.
          if ((await holderId(redis, keys, cell)) !== id) {
            statusCache.forget(cell);
            return true;
          }
          await new Promise((resolve) => setTimeout(resolve, CANCEL_POLL_MS));
        }
        // Still held (its worker may be dead): the cancel key stays, so whichever worker
        // picks the job up again cancels it at start.
        return true;
      });
    },

    history(cell, limit) {
      return guard(() => recorder.history(cell, limit));
    },

    lastImportFailure(cell) {
      return guard(() => recorder.lastImportFailure(cell));
    },

    forgetCell(cell) {
      return guard(() => recorder.forget(cell));
    },

    counts() {
      return guard(async () => {
        const queue = await getQueue();
        const counts = await queue.getJobCounts(...JOB_COUNT_STATES);
        return Object.fromEntries(JOB_COUNT_STATES.map((state) => [state, counts[state] ?? 0])) as JobCounts;
      });
    },

    async ping() {
      await guard(async () => {
        await redis.ping();
      });
    },

    close() {
      closing ??= (async () => {
        await statusFeed.close();
        const queue = await queuePromise?.catch(() => undefined);
        await queue?.close().catch(() => {});
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Command timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
