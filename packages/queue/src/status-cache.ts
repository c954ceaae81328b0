/**
 * The per-process cache behind the polled status endpoints (GET `__export`,
 * GET `__import`). Pollers ask for the same few cells thousands of times a second;
 * Redis only needs to be asked once per cell every `maxAgeMs`.
 *
 * What keeps it honest:
 * - Only *in-progress* answers are kept. "Nothing running" is always read from Redis,
 *   so a job accepted by any process reads as in progress at once (spec §3.1: the
 *   status already says so when the 202 arrives), and "ready" is never reported from
 *   memory before the job really ended.
 * - A cached answer is at most `maxAgeMs` old, counted from when its read was sent.
 *   So a client polling no faster than that sees progress that never goes back, even
 *   when successive polls land on different api processes.
 * - When a job ends, the process that ended it publishes the cell's name
 *   (job-ended.ts) and every api process drops its entry, so "ready" is not held
 *   back by the max age. The cache only serves while that feed is subscribed.
 * - A read that was already on its way when the cell's entry was dropped is handed to
 *   its waiters but not kept.
 * - An enqueue by this process is a read too: the job it just added is waiting, so
 *   the first poll after a 202 needs no trip to Redis.
 * - Past half its max age, an entry is refreshed in the background while it is still
 *   served, so steady pollers do not queue behind the refresh.
 */
import type { CurrentJob } from "@cellport/shared";

export interface StatusCache {
  /** The cell's queued or running job, or null (from memory when fresh and in progress). */
  read(cell: string): Promise<CurrentJob | null>;
  /**
   * True when a cached answer, at most 1 s (or twice the max age) old and not dropped
   * since, says the cell has a job in progress.
   */
  holdsJob(cell: string): boolean;
  /**
   * Runs `write`, an operation whose answer is the cell's job as it left it (an
   * enqueue: the job it added, or the holder it found), and keeps that answer like a
   * read sent now; a read on its way meanwhile is superseded. The answer must be the
   * cell's job in progress, or null.
   */
  update(cell: string, write: () => Promise<CurrentJob | null>): Promise<CurrentJob | null>;
  /** Drops the cell's entry (its job ended or changed). */
  forget(cell: string): void;
  /** Starts (true) or stops (false, also dropping everything) serving from memory. */
  setServing(serving: boolean): void;
}

export interface StatusCacheOptions {
  /** The authoritative read (Redis). */
  readFresh: (cell: string) => Promise<CurrentJob | null>;
  maxAgeMs: number;
  /** Entries beyond this are dropped wholesale (memory bound; they are only a cache). */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  job: CurrentJob;
  /** When the read that produced it was sent. */
  readAt: number;
}

export function createStatusCache(options: StatusCacheOptions): StatusCache {
  const { readFresh, maxAgeMs } = options;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, Entry>();
  /** One read on its way per cell; the ones that arrive meanwhile share it. */
  const reading = new Map<string, Promise<CurrentJob | null>>();
  let serving = false;
  // "Has a job, so exists" stays true while its entry is being refreshed (a refresh is
  // one Redis round trip; dozens of concurrent polls would otherwise all hit the disk).
  const existenceMaxAgeMs = Math.max(1_000, 2 * maxAgeMs);

  /** The cell's entry if it was read from Redis less than `ms` ago (and the cache serves). */
  function within(cell: string, ms: number): Entry | undefined {
    if (!serving) return undefined;
    const entry = entries.get(cell);
    return entry && now() - entry.readAt < ms ? entry : undefined;
  }

  function readThrough(cell: string): Promise<CurrentJob | null> {
    return reading.get(cell) ?? track(cell, () => readFresh(cell));
  }

  /** Runs `operation` as the cell's read on its way, keeping its answer unless the cell is dropped meanwhile. */
  function track(cell: string, operation: () => Promise<CurrentJob | null>): Promise<CurrentJob | null> {
    const readAt = now();
    const read = operation().then(
      (job) => {
        // Kept only if nothing dropped the cell meanwhile (its job may have ended since).
        if (reading.get(cell) === read) {
          reading.delete(cell);
          if (!job) entries.delete(cell);
          else if (serving && maxAgeMs > 0) {
            if (entries.size >= maxEntries) entries.clear();
            entries.set(cell, { job, readAt });
          }
        }
        return job;
      },
      (error: unknown) => {
        if (reading.get(cell) === read) reading.delete(cell);
        throw error;
      },
    );
    reading.set(cell, read);
    return read;
  }

  return {
    read(cell) {
      const entry = within(cell, maxAgeMs);
      if (!entry) return readThrough(cell);
      // Past half its age, refresh in the background: a steady poller never waits for
      // Redis (the waiters of an expired entry were the status endpoint's p99).
      if (now() - entry.readAt >= maxAgeMs / 2) readThrough(cell).catch(() => {});
      return Promise.resolve(entry.job);
    },
    holdsJob(cell) {
      return within(cell, existenceMaxAgeMs) !== undefined;
    },
    update(cell, write) {
      return track(cell, write);
    },
    forget(cell) {
      entries.delete(cell);
      reading.delete(cell);
    },
    setServing(value) {
      serving = value;
      if (!value) {
        entries.clear();
        reading.clear();
      }
    },
  };
}
