/**
 * Reading a data file together with its metadata file when a writer replaces them
 * with two renames (data first, metadata second). The writer stamps the data file's
 * mtime with the metadata's `updated` time, which strictly increases per version, so
 * a pair matches only when (size, mtime) of the data equals what the metadata says.
 * A mismatch means a write is between its two renames: retry briefly. If it persists
 * (a writer crashed between the renames) the caller gets `consistent: false` and
 * trusts the data file — the content is always whole, old or new, never mixed.
 */
import { type Stats, statSync } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { isNotFound, sleep } from "./fs-util.ts";

const RETRIES = 5;

export interface PairedRead<M> {
  meta: M | null;
  stats: Stats;
  /** Open on the very file `stats` describes, when asked for. The caller closes it. */
  handle?: FileHandle;
  consistent: boolean;
}

export function sameVersion(stats: Stats, size: number | undefined, updatedMs: number): boolean {
  // Rounded: utimes() goes through a float of seconds, so `u` may come back as u - 0.000001 ms.
  return stats.size === size && Math.round(stats.mtimeMs) === Math.round(updatedMs);
}

export async function readPaired<M>(
  dataPath: string,
  readMeta: () => Promise<M | null>,
  matches: (meta: M, stats: Stats) => boolean,
  keepOpen: boolean,
): Promise<PairedRead<M> | null> {
  for (let attempt = 0; ; attempt++) {
    let handle: FileHandle | undefined;
    let stats: Stats;
    try {
      if (keepOpen) {
        handle = await open(dataPath, "r");
        stats = await handle.stat();
      } else {
        stats = await stat(dataPath);
      }
    } catch (error) {
      await handle?.close();
      if (isNotFound(error)) return null;
      throw error;
    }
    let meta: M | null;
    try {
      meta = await readMeta();
    } catch (error) {
      await handle?.close();
      throw error;
    }
    const consistent = meta !== null && matches(meta, stats);
    if (consistent || attempt >= RETRIES) {
      return handle ? { meta, stats, handle, consistent } : { meta, stats, consistent };
    }
    await handle?.close();
    await sleep(2 ** attempt);
  }
}

/**
 * readPaired's blocking twin, for the store thread only (it would stall an event
 * loop): the same pairing and retries, no handle.
 */
export function readPairedSync<M>(
  dataPath: string,
  readMeta: () => M | null,
  matches: (meta: M, stats: Stats) => boolean,
): PairedRead<M> | null {
  for (let attempt = 0; ; attempt++) {
    // No exception for a missing file (the usual case when publishing a new name):
    // making one, stack trace included, cost more than the stat.
    const stats = statSync(dataPath, { throwIfNoEntry: false });
    if (!stats) return null;
    const meta = readMeta();
    const consistent = meta !== null && matches(meta, stats);
    if (consistent || attempt >= RETRIES) return { meta, stats, consistent };
    Atomics.wait(sleeper, 0, 0, 2 ** attempt);
  }
}

/** What readPairedSync waits on: nothing ever wakes it, so each wait is a plain sleep. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
