/**
 * Reads a cell's current job in two round trips: the dedup key (the id of the job
 * that holds the cell), then one pipeline with the job hash and the few O(1)/O(log n)
 * membership checks that tell its state. BullMQ's `getState` walks the wait list
 * (O(n)) and takes more trips; the status endpoint is polled, so it must stay cheap.
 */
import type { CellJobData, CurrentJob, JobState } from "@cellport/shared";
import type { RedisClient } from "./connection.ts";
import type { CellportKeys } from "./keys.ts";

/** The id of the job holding `cell`, or null. */
export async function holderId(redis: RedisClient, keys: CellportKeys, cell: string): Promise<string | null> {
  return redis.get(keys.dedup(cell));
}

/**
 * One job by id, with its state. The active list is short (bounded by the workers'
 * concurrency), so `LPOS` on it is cheap; a job in none of the checked structures is
 * in the wait list. Null when the job hash is gone (finished and removed, or a stale
 * dedup key after data loss, which BullMQ recovers on the next add).
 */
export async function readJob(
  redis: RedisClient,
  keys: CellportKeys,
  jobId: string,
): Promise<CurrentJob | null> {
  const results = await redis
    .pipeline()
    .hmget(keys.bull(jobId), "data", "progress")
    .lpos(keys.bull("active"), jobId)
    .zscore(keys.bull("delayed"), jobId)
    .zscore(keys.bull("prioritized"), jobId)
    .zscore(keys.bull("completed"), jobId)
    .zscore(keys.bull("failed"), jobId)
    .exec();
  if (!results) throw new Error("Connection is closed.");
  for (const [error] of results) if (error) throw error;
  const [fields, active, delayed, prioritized, completed, failed] = results.map(([, value]) => value);
  const [rawData, rawProgress] = (fields as (string | null)[] | null) ?? [];
  if (!rawData) return null;

  let state: JobState = "waiting";
  if (completed !== null) state = "completed";
  else if (failed !== null) state = "failed";
  else if (active !== null) state = "active";
  else if (delayed !== null) state = "delayed";
  else if (prioritized !== null) state = "prioritized";

  return { state, data: JSON.parse(rawData) as CellJobData, progress: parseProgress(rawProgress) };
}

function parseProgress(raw: string | null | undefined): unknown {
  if (raw === null || raw === undefined) return 0;
  try {
    return JSON.parse(raw);
  } catch {
    return 0;
  }
}
