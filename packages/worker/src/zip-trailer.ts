/**
 * Reads the end of a committed snapshot zip (its archive comment and entry count)
 * through the store's range reads, without reading the file. The processor stamps
 * each export's job id into the comment, so an attempt that finds `{Name}.zip`
 * already there can tell "a previous attempt of this job committed it" from "someone
 * else's file".
 */
import { buffer } from "node:stream/consumers";
import type { CellStore } from "@cellport/store";

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
/** Our comments are short; a longer one is not ours anyway. */
const MAX_COMMENT = 1_024;

export interface ZipTrailer {
  comment: string;
  entries: number;
}

/** The archive comment that marks a snapshot as written by export job `jobId`. */
export function exportComment(jobId: string): string {
  return `cellport export job=${jobId}`;
}

async function readRange(store: CellStore, cell: string, file: string, start: number, end: number) {
  const { stream } = await store.snapshots.open(cell, file, { start, end });
  return buffer(stream);
}

/** Null when the file is not a zip we can read the end of. */
export async function readZipTrailer(
  store: CellStore,
  cell: string,
  file: string,
  size: number,
): Promise<ZipTrailer | null> {
  if (size < EOCD_SIZE) return null;
  const tailStart = Math.max(0, size - EOCD_SIZE - MAX_COMMENT - ZIP64_LOCATOR_SIZE);
  const tail = await readRange(store, cell, file, tailStart, size - 1);
  // Scan backwards for an EOCD whose comment length reaches exactly the end of the file.
  for (let at = tail.length - EOCD_SIZE; at >= 0; at--) {
    if (tail.readUInt32LE(at) !== EOCD_SIGNATURE) continue;
    const commentLength = tail.readUInt16LE(at + 20);
    if (at + EOCD_SIZE + commentLength !== tail.length) continue;
    const comment = tail.subarray(at + EOCD_SIZE, at + EOCD_SIZE + commentLength).toString("latin1");
    let entries = tail.readUInt16LE(at + 10);
    if (entries === 0xffff && at >= ZIP64_LOCATOR_SIZE) {
      const locator = at - ZIP64_LOCATOR_SIZE;
      if (tail.readUInt32LE(locator) === ZIP64_LOCATOR_SIGNATURE) {
        const recordOffset = Number(tail.readBigUInt64LE(locator + 8));
        const record = await readRange(store, cell, file, recordOffset, recordOffset + 55);
        if (record.readUInt32LE(0) === ZIP64_EOCD_SIGNATURE) entries = Number(record.readBigUInt64LE(32));
      }
    }
    return { comment, entries };
  }
  return null;
}
