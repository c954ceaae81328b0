/**
 * A snapshot zip opened with yauzl: its entries one at a time (only the central
 * directory is walked, one entry in memory at a time), each checked by entry-rules,
 * and each entry's data as a stream whose every byte is counted against the declared
 * size, the CRC-32 and the caller's abort signal.
 */

import type { Readable } from "node:stream";
import { Transform, type TransformCallback } from "node:stream";
import { crc32 } from "node:zlib";
import { PersoniumError } from "@cellport/shared";
import type { ZipFile } from "yauzl";
import { type CheckedEntry, checkEntry } from "./entry-rules.ts";
import type { SnapshotLimits } from "./limits.ts";
import { invalidEntry, notZip, tooManyEntries } from "./snapshot-errors.ts";
import { openZip, type SnapshotSource } from "./source.ts";

export interface EntryReadOptions {
  signal?: AbortSignal;
  /** Called with each chunk's size as uncompressed bytes arrive. */
  onBytes?: (bytes: number) => void;
}

export interface SnapshotArchive {
  /** As declared by the end-of-central-directory record. */
  readonly entryCount: number;
  /** Every entry in central-directory order; throws at the first hostile one. Call once. */
  entries(): AsyncIterable<CheckedEntry>;
  /** The entry's uncompressed data; must be consumed or destroyed before the next entry is asked for. */
  openEntry(entry: CheckedEntry, options?: EntryReadOptions): Promise<Readable>;
  close(): void;
}

/** Opens `source`; anything that is not a readable zip is PR400-MC-0004, a missing file stays ENOENT. */
export async function openSnapshotArchive(
  source: SnapshotSource,
  limits: SnapshotLimits,
): Promise<SnapshotArchive> {
  let zip: ZipFile;
  try {
    zip = await openZip(source, {
      lazyEntries: true,
      autoClose: true,
      decodeStrings: false,
      // Our meter checks sizes (and the CRC) per entry with typed errors that name the entry.
      validateEntrySizes: false,
      strictFileNames: true,
    });
  } catch (error) {
    throw isFileSystemError(error) ? error : notZip(error);
  }
  // yauzl emits "error" on the ZipFile as well as rejecting; the rejection is what we handle.
  zip.on("error", () => {});
  if (zip.entryCount > limits.maxEntries) {
    zip.close();
    throw tooManyEntries(zip.entryCount);
  }

  return {
    entryCount: zip.entryCount,

    async *entries() {
      const iterator = zip.eachEntry();
      try {
        for (;;) {
          let next: IteratorResult<Parameters<typeof checkEntry>[0]>;
          try {
            next = await iterator.next();
          } catch (error) {
            // A central directory that breaks off or contradicts itself: not a usable zip.
            throw isFileSystemError(error) ? error : notZip(error);
          }
          if (next.done) return;
          yield checkEntry(next.value, limits);
        }
      } finally {
        await iterator.return?.();
      }
    },

    async openEntry(checked, options = {}) {
      options.signal?.throwIfAborted();
      let source: Readable;
      try {
        source = await zip.openReadStreamPromise(checked.entry);
      } catch (error) {
        throw isFileSystemError(error)
          ? error
          : invalidEntry(checked.name, `unreadable data (${message(error)})`);
      }
      const meter = new EntryMeter(checked, options);
      // A small entry can be read (and fail its checks) before the consumer attaches;
      // the error stays on the stream (`errored`) and reaches whoever reads it later,
      // so it must not also crash the process as an unhandled "error" event.
      meter.on("error", () => {});
      source.once("error", (error: Error) => meter.destroy(toEntryError(checked, error)));
      meter.once("close", () => {
        // yauzl: unpipe before destroy, or the inflater may write into a destroyed stream.
        source.unpipe(meter);
        if (!source.readableEnded) source.destroy();
      });
      source.pipe(meter);
      return meter;
    },

    close() {
      if (zip.isOpen) zip.close();
    },
  };
}

/**
 * Counts an entry's uncompressed bytes: never more than declared (checked at every
 * chunk, so a zip bomb stops at its first byte too many), exactly as many at the end,
 * and the CRC-32 the central directory promised (yauzl does not check it).
 */
class EntryMeter extends Transform {
  private bytes = 0;
  private crc = 0;

  constructor(
    private readonly checked: CheckedEntry,
    private readonly options: EntryReadOptions,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const { signal, onBytes } = this.options;
    if (signal?.aborted) {
      callback(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      return;
    }
    this.bytes += chunk.length;
    if (this.bytes > this.checked.size) {
      callback(
        invalidEntry(this.checked.name, `more data than its declared size of ${this.checked.size} bytes`),
      );
      return;
    }
    this.crc = crc32(chunk, this.crc);
    onBytes?.(chunk.length);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.checked.size) {
      callback(invalidEntry(this.checked.name, `${this.bytes} bytes of data, declared ${this.checked.size}`));
      return;
    }
    if (this.crc !== this.checked.entry.crc32) {
      callback(invalidEntry(this.checked.name, "a CRC-32 mismatch"));
      return;
    }
    callback();
  }
}

/** yauzl's and zlib's stream errors (bad deflate data, a short file) name the entry they broke. */
function toEntryError(checked: CheckedEntry, error: Error): Error {
  if (error instanceof PersoniumError || isFileSystemError(error)) return error;
  return invalidEntry(checked.name, `damaged data (${message(error)})`);
}

function isFileSystemError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // zlib errors carry codes too (Z_DATA_ERROR), but they are the archive's fault.
  return typeof code === "string" && /^E[A-Z]+$/.test(code);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
