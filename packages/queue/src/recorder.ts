/**
 * A cell's job history and last import failure: the outcome of finished jobs, which
 * BullMQ forgets (finished jobs are removed after a while, and the dedup key is gone
 * the moment a job ends). Written by the worker when a job ends, and by the api when
 * it cancels a job that never started; read by the api.
 */
import type { CellJobData, ImportFailure, JobHistoryEntry } from "@cellport/shared";
import type { RedisClient } from "./connection.ts";
import { DEFAULT_PREFIX, keysFor } from "./keys.ts";
import { luaScript, runScript } from "./lua-script.ts";

export const DEFAULT_HISTORY_LIMIT = 50;

/** KEYS[1] the history list; ARGV[1] the entry, ARGV[2] the limit. */
const PUSH_HISTORY = luaScript(`
redis.call("LPUSH", KEYS[1], ARGV[1])
redis.call("LTRIM", KEYS[1], 0, tonumber(ARGV[2]) - 1)
`);

export interface JobRecorder {
  /** Prepends an entry and trims the list to the history limit, in one script. */
  recordHistory(cell: string, entry: JobHistoryEntry): Promise<void>;
  /** Newest first. */
  history(cell: string, limit?: number): Promise<JobHistoryEntry[]>;
  recordImportFailure(cell: string, failure: ImportFailure): Promise<void>;
  lastImportFailure(cell: string): Promise<ImportFailure | null>;
  clearImportFailure(cell: string): Promise<void>;
  /** Deletes the cell's history and last failure. */
  forget(cell: string): Promise<void>;
}

export function createJobRecorder(
  redis: RedisClient,
  options: { prefix?: string; historyLimit?: number } = {},
): JobRecorder {
  const keys = keysFor(options.prefix ?? DEFAULT_PREFIX);
  const limit = Math.max(1, options.historyLimit ?? DEFAULT_HISTORY_LIMIT);

  return {
    async recordHistory(cell, entry) {
      await runScript(redis, PUSH_HISTORY, [keys.history(cell)], [JSON.stringify(entry), limit]);
    },
    async history(cell, max = limit) {
      if (max <= 0) return [];
      const raw = await redis.lrange(keys.history(cell), 0, max - 1);
      return raw.flatMap((text) => parseJson<JobHistoryEntry>(text) ?? []);
    },
    async recordImportFailure(cell, failure) {
      await redis.set(keys.importFailure(cell), JSON.stringify(failure));
    },
    async lastImportFailure(cell) {
      const text = await redis.get(keys.importFailure(cell));
      return text === null ? null : parseJson<ImportFailure>(text);
    },
    async clearImportFailure(cell) {
      await redis.del(keys.importFailure(cell));
    },
    async forget(cell) {
      await redis.del(keys.history(cell), keys.importFailure(cell));
    },
  };
}

/**
 * A history entry for a job that ended now. `durationMs` runs from `startedAt` (the
 * start of the attempt that ended it, epoch ms) when given, else from acceptance.
 */
export function historyEntry(
  data: CellJobData,
  outcome: JobHistoryEntry["outcome"],
  details: Partial<Pick<JobHistoryEntry, "attempts" | "size" | "sha256" | "error">> & {
    finishedAt?: Date;
    startedAt?: number;
  } = {},
): JobHistoryEntry {
  const finished = details.finishedAt ?? new Date();
  const started = details.startedAt ?? Date.parse(data.acceptedAt);
  const entry: JobHistoryEntry = {
    kind: data.kind,
    name: data.name,
    outcome,
    acceptedAt: data.acceptedAt,
    finishedAt: finished.toISOString(),
    durationMs: Number.isFinite(started) ? Math.max(0, finished.getTime() - started) : 0,
    requestKey: data.requestKey,
    attempts: details.attempts ?? 0,
  };
  if (details.size !== undefined) entry.size = details.size;
  if (details.sha256 !== undefined) entry.sha256 = details.sha256;
  if (details.error !== undefined) entry.error = details.error;
  return entry;
}

function parseJson<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    // A hand-edited or truncated entry must not break the whole list.
    return null;
  }
}
