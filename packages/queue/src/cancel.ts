/**
 * The cancel channel between any api process and whichever worker runs a job.
 * BullMQ's own `worker.cancelJob` only works inside the worker's process, so:
 * - a key `cancel:{jobId}` (with a TTL) says durably "this job is cancelled": a worker
 *   checks it when it starts the job (a queued job that slipped into active, or a job
 *   picked up again after its worker died), and after its subscriber reconnects;
 * - a pub/sub message with the job id tells a worker running it right now.
 */
import { type ChannelListener, listenOnChannel } from "./channel.ts";
import type { RedisClient } from "./connection.ts";
import { type CellportKeys, DEFAULT_PREFIX, keysFor } from "./keys.ts";
import { luaScript, runScript } from "./lua-script.ts";

/** Long enough to outlive any retry backoff and stall recovery of the job. */
export const CANCEL_TTL_SECONDS = 24 * 3600;

/** KEYS[1] the cancel key; ARGV: its value, its TTL (s), the cancel channel, the job id. */
const REQUEST_CANCEL = luaScript(`
redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[2])
redis.call("PUBLISH", ARGV[3], ARGV[4])
`);

/** Sets the job's cancel key and tells the workers, in one script. */
export async function requestCancel(redis: RedisClient, keys: CellportKeys, jobId: string): Promise<void> {
  await runScript(
    redis,
    REQUEST_CANCEL,
    [keys.cancel(jobId)],
    [String(Date.now()), CANCEL_TTL_SECONDS, keys.cancelChannel, jobId],
  );
}

export async function isCancelRequested(redis: RedisClient, prefix: string, jobId: string): Promise<boolean> {
  return (await redis.exists(keysFor(prefix).cancel(jobId))) === 1;
}

export async function clearCancel(redis: RedisClient, prefix: string, jobId: string): Promise<void> {
  await redis.del(keysFor(prefix).cancel(jobId));
}

export type CancelListener = ChannelListener;

/**
 * Subscribes `subscriber` to the cancel channel. `onCancel` gets each job id;
 * `onResubscribed` runs after a reconnect, when messages sent meanwhile may have been missed.
 */
export function listenForCancels(options: {
  subscriber: RedisClient;
  prefix?: string;
  onCancel: (jobId: string) => void;
  onResubscribed?: () => void;
}): Promise<CancelListener> {
  return listenOnChannel({
    subscriber: options.subscriber,
    channel: keysFor(options.prefix ?? DEFAULT_PREFIX).cancelChannel,
    onMessage: options.onCancel,
    ...(options.onResubscribed ? { onResubscribed: options.onResubscribed } : {}),
  });
}
