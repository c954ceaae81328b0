/**
 * Bounds on what a snapshot archive may declare and contain (spec §4.3: zip bombs).
 * Declared sizes are checked before a byte is inflated; actual sizes are checked
 * while reading, so an archive that lies about its sizes fails at the first extra byte.
 */
export interface SnapshotLimits {
  /** Entries in the central directory, directories included. */
  maxEntries: number;
  /** Uncompressed bytes of one entry. */
  maxEntryBytes: number;
  /** Uncompressed bytes of all entries together. */
  maxTotalBytes: number;
  /**
   * Uncompressed bytes of an entry that is parsed whole (manifest, cell document,
   * `.pmeta`) and of one pjson line: these are held in memory, the rest is streamed.
   */
  maxDocumentBytes: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export const DEFAULT_SNAPSHOT_LIMITS: Readonly<SnapshotLimits> = Object.freeze({
  // Zip64 archives may hold more than 65 535 entries; a cell of a million files is large but real.
  maxEntries: 1_000_000,
  // As large as the api accepts in one upload (CELLPORT_MAX_UPLOAD_BYTES' default).
  maxEntryBytes: 10 * GiB,
  maxTotalBytes: 100 * GiB,
  maxDocumentBytes: 16 * MiB,
});

export function resolveLimits(limits: Partial<SnapshotLimits> | undefined): SnapshotLimits {
  const resolved = { ...DEFAULT_SNAPSHOT_LIMITS, ...limits };
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`Expected snapshot limit ${key} to be a positive integer, got ${String(value)}`);
    }
  }
  return resolved;
}
