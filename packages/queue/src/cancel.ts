/**
 * The cancel channel between any api process and whichever worker runs a job.
 * BullMQ's own `worker.cancelJob` only works inside the worker's process, so:
 * - a key `cancel:{jobId}` (with a TTL) says durably "this job is cancelled": a worker
 *   checks it when it starts the job (a queued job that slipped into active, or a job
 *   picked up again after its worker died), and after its subscriber reconnects;
 * - a pub/sub message with the job id tells a worker running it right now.
 */
import type { RedisClient } from "./connection.ts";
import { type CellportKeys, DEFAULT_PREFIX, keysFor } from "./keys.ts";

/** Long enough to outlive any retry backoff and stall recovery of the job. */
export const CANCEL_TTL_SECONDS = 24 * 3600;

export async function requestCancel(redis: RedisClient, keys: CellportKeys, jobId: string): Promise<void> {
  await redis
    .multi()
    .set(keys.cancel(jobId), String(Date.now()), "EX", CANCEL_TTL_SECONDS)
    .publish(keys.cancelChannel, jobId)
    .exec();
}

export async function isCancelRequested(redis: RedisClient, prefix: string, jobId: string): Promise<boolean> {
  return (await redis.exists(keysFor(prefix).cancel(jobId))) === 1;
}

export async function clearCancel(redis: RedisClient, prefix: string, jobId: string): Promise<void> {
  await redis.del(keysFor(prefix).cancel(jobId));
}

export interface CancelListener {
  close(): Promise<void>;
}

/**
 * Subscribes `subscriber` (a connection of its own: a subscribed ioredis client can do
 * nothing else) to the cancel channel. `onCancel` gets each job id; `onResubscribed`
 * runs after a reconnect, when messages sent meanwhile may have been missed.
 */
export async function listenForCancels(options: {
  subscriber: RedisClient;
  prefix?: string;
  onCancel: (jobId: string) => void;
  onResubscribed?: () => void;
}): Promise<CancelListener> {
  const { subscriber, onCancel, onResubscribed } = options;
  const channel = keysFor(options.prefix ?? DEFAULT_PREFIX).cancelChannel;
  const onMessage = (from: string, message: string) => {
    if (from === channel) onCancel(message);
  };
  let readyCount = 0;
  const onReady = () => {
    // ioredis re-subscribes by itself on reconnect (autoResubscribe); the first ready is the initial connect.
    readyCount += 1;
    if (readyCount > 1) onResubscribed?.();
  };
  subscriber.on("message", onMessage);
  subscriber.on("ready", onReady);
  if (subscriber.status === "ready") readyCount = 1;
  await subscriber.subscribe(channel);
  return {
    async close() {
      subscriber.off("message", onMessage);
      subscriber.off("ready", onReady);
      await subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}
