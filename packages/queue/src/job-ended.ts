/**
 * "The cell's job just ended" — a hint to every api process that its cached
 * in-progress status of that cell is stale (see status-cache.ts). Published by whoever
 * ends a job, after BullMQ has recorded the end: the worker (completed, failed) and
 * the api (a queued job cancelled). Losing one only delays the cache by its max age.
 */
import type { RedisClient } from "./connection.ts";
import type { CellportKeys } from "./keys.ts";

export async function publishJobEnded(redis: RedisClient, keys: CellportKeys, cell: string): Promise<void> {
  await redis.publish(keys.jobEndedChannel, cell);
}
