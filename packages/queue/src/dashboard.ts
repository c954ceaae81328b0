/**
 * The queue as the operators' dashboard (bull-board) sees it: bull-board adapters,
 * so the api mounts a dashboard without ever touching a BullMQ or Redis type.
 *
 * It has its own Queue on its own connection rather than the job backend's: the
 * backend's producer connection fails fast (no offline queue), which suits request
 * handling but not an object built once at start-up and kept for the process's
 * life; this connection waits out a Redis restart, and every dashboard call is still
 * bounded by the command timeout.
 */
import type { BaseAdapter } from "@bull-board/api/baseAdapter";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { QUEUE_NAME } from "@cellport/shared";
import { Queue } from "bullmq";
import type { RedisOptions } from "ioredis";
import { createRedisClient } from "./connection.ts";
import { DEFAULT_PREFIX } from "./keys.ts";

export interface QueueDashboardOptions {
  redisUrl: string;
  prefix?: string;
  /**
   * No retry, remove, clean, pause or add from the dashboard. Those bypass what the
   * api keeps consistent (the cell lock, history, `.error` files): cancel through
   * `DELETE {CellURL}__export` instead.
   */
  readOnly: boolean;
  /** Bound on each Redis command the dashboard issues. Default 5000 ms. */
  timeoutMs?: number;
}

export interface QueueDashboardSource {
  /** One adapter per queue, for bull-board's `createBullBoard({ queues })`. */
  readonly queues: readonly BaseAdapter[];
  /** Idempotent. */
  close(): Promise<void>;
}

function dashboardConnectionOptions(timeoutMs: number): RedisOptions {
  return {
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(200 * times, 5_000),
  };
}

export function createQueueDashboardSource(options: QueueDashboardOptions): QueueDashboardSource {
  const redis = createRedisClient(options.redisUrl, dashboardConnectionOptions(options.timeoutMs ?? 5_000));
  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: options.prefix ?? DEFAULT_PREFIX });
  // Failures reach the dashboard's own requests; the event must not go unhandled.
  queue.on("error", () => {});
  const adapter = new BullMQAdapter(queue, {
    readOnlyMode: options.readOnly,
    allowRetries: !options.readOnly,
    description: "Cell exports and imports (one job per cell)",
  });
  let closing: Promise<void> | undefined;
  return {
    queues: [adapter],
    close() {
      closing ??= (async () => {
        await queue.close().catch(() => {});
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}
