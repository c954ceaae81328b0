/**
 * Reads a cell's current job in one round trip: one script reads the dedup key (the
 * id of the job that holds the cell), the job hash and the few O(1)/O(log n)
 * membership checks that tell its state. BullMQ's `getState` walks the wait list
 * (O(n)) and takes more trips; the status endpoint is polled, so it must stay cheap.
 */
import type { CellJobData, CurrentJob, JobState } from "@cellport/shared";
import type { RedisClient } from "./connection.ts";
import type { CellportKeys } from "./keys.ts";
import { luaScript, runScript } from "./lua-script.ts";

/**
 * KEYS[1]: the cell's dedup key, or the job hash when the id is known; ARGV[1]: the
 * prefix of BullMQ's keys of the queue; ARGV[2]: the job id, or "" to read it from
 * KEYS[1]. Returns false (no holder), {id} (the job hash is gone) or {id, data,
 * progress, state}. The active list is short (bounded by the workers' concurrency), so
 * `LPOS` on it is cheap; a job in none of the checked structures is in the wait list.
 * The job's keys are built here from the id, as BullMQ's own scripts do: they share
 * the declared key's hash tag.
 */
const READ_JOB = luaScript(`
local bull = ARGV[1]
local id = ARGV[2]
if id == "" then
  id = redis.call("GET", KEYS[1])
  if not id then return false end
end
local fields = redis.call("HMGET", bull .. id, "data", "progress")
if not fields[1] then return {id} end
local state = "waiting"
if redis.call("ZSCORE", bull .. "completed", id) then state = "completed"
elseif redis.call("ZSCORE", bull .. "failed", id) then state = "failed"
elseif redis.call("LPOS", bull .. "active", id) then state = "active"
elseif redis.call("ZSCORE", bull .. "delayed", id) then state = "delayed"
elseif redis.call("ZSCORE", bull .. "prioritized", id) then state = "prioritized"
end
return {id, fields[1], fields[2] or "", state}
`);

/** The id of the job holding `cell`, or null. */
export async function holderId(redis: RedisClient, keys: CellportKeys, cell: string): Promise<string | null> {
  return redis.get(keys.dedup(cell));
}

/**
 * The job holding `cell`: its id (null when none does) and the job with its state
 * (null when its hash is gone: finished and removed, or a stale dedup key after data
 * loss, which BullMQ recovers on the next add).
 */
export async function readHolder(
  redis: RedisClient,
  keys: CellportKeys,
  cell: string,
): Promise<{ id: string | null; job: CurrentJob | null }> {
  const reply = await runScript(redis, READ_JOB, [keys.dedup(cell)], [keys.bull(""), ""]);
  return reply ? parseReply(reply) : { id: null, job: null };
}

/** One job by id, with its state; null when its hash is gone. */
export async function readJob(
  redis: RedisClient,
  keys: CellportKeys,
  jobId: string,
): Promise<CurrentJob | null> {
  const reply = await runScript(redis, READ_JOB, [keys.bull(jobId)], [keys.bull(""), jobId]);
  return reply ? parseReply(reply).job : null;
}

function parseReply(reply: unknown): { id: string; job: CurrentJob | null } {
  const [id, rawData, rawProgress, state] = reply as [string, string?, string?, JobState?];
  if (rawData === undefined || state === undefined) return { id, job: null };
  return {
    id,
    job: { state, data: JSON.parse(rawData) as CellJobData, progress: parseProgress(rawProgress) },
  };
}

function parseProgress(raw: string | null | undefined): unknown {
  if (!raw) return 0;
  try {
    return JSON.parse(raw);
  } catch {
    return 0;
  }
}
