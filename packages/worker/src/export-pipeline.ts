/**
 * One export attempt: streams the cell as a version-2 snapshot zip (spec §7) into
 * the attempt's temp file, hashing and counting on the way, and publishes it with
 * `writer.commit` — the rename, and the only commit point. Any failure or abort
 * before that removes the temp file; nothing is ever half-published.
 *
 * Memory stays flat: a tiny file whose content the store's listing brought along
 * (most of a small cell: `.pmeta` documents, short JSONL files) is added as a buffer;
 * every other file with `addReadStreamLazy`, so yazl asks for one file at a time,
 * when it gets to it, and only then is it opened (or its prefetched content used) —
 * a small one is then read whole with one call, a bigger one streams. Entries are
 * added in batches with a turn of the event loop between two batches: adding the
 * ~100k entries of a big cell at once blocked it for ~0.4 s. (yazl looks for its
 * next entry by scanning its list; it is patched — patches/yazl@3.3.1.patch — to
 * resume the scan where the last one stopped: from the first entry each time, a
 * cell of ~100k entries took twice as long.)
 *
 * A small cell (`fitsInMemory`: at most IN_MEMORY_MAX_BYTES of content, fewer than
 * ADD_BATCH entries) skips all of that: its zip is built in memory in one step
 * (zip-in-memory.ts) and handed to the commit, which writes it. Either way, files in
 * a compressed format are stored, not deflated (`compressionLevelFor`).
 */

import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { finished, pipeline } from "node:stream/promises";
import { setImmediate as nextTurn } from "node:timers/promises";
import { EXPORT_VERSION, isCompressedFormat, MANIFEST_ENTRY, type SnapshotManifest } from "@cellport/shared";
import { CONTENT_FILE } from "@cellport/snapshot";
import type { CellStore, ExportEntry, SnapshotStat } from "@cellport/store";
import yazl from "yazl";
import { FileSink, WRITE_BATCH_BYTES } from "./file-sink.ts";
import { createProgressThrottle } from "./progress-throttle.ts";
import { type InMemoryZipEntry, isPlainAsciiComment, zipInMemory } from "./zip-in-memory.ts";

/** Entries added to the zip between two turns of the event loop. */
const ADD_BATCH = 2_000;

/** A cell of at most these many file bytes, and fewer entries, is zipped in memory (`fitsInMemory`). */
export const IN_MEMORY_MAX_BYTES = WRITE_BATCH_BYTES;
const IN_MEMORY_MAX_ENTRIES = ADD_BATCH;

/** Deflate level: the fastest with a good ratio here (stack.md). */
export const COMPRESSION_LEVEL = 6;

/**
 * Entries at most this big are stored, not deflated: `.pmeta` documents and small
 * files save a few dozen bytes at best, while each deflate stream costs a zlib
 * context (~300 KiB allocated and freed) — the main cost of exporting small cells.
 */
export const STORE_BELOW_BYTES = 1024;

/**
 * Files at most this big are read whole when yazl gets to them (the store's `read()`:
 * one open, one read, one close) instead of streamed: a ReadStream costs more round
 * trips to the thread pool and more stream machinery than a small file is worth, and
 * for a cell of small files that was most of the export's CPU. At most one such
 * buffer is held at a time.
 */
export const READ_WHOLE_MAX_BYTES = 64 * 1024;

export interface ExportPipelineOptions {
  store: CellStore;
  cell: string;
  /** Snapshot `Name`, without `.zip`. */
  name: string;
  /** Goes into the manifest's `unit_url`. */
  unitUrl: string;
  /** Names this attempt's temp file (job id + attempt), so attempts never share one. */
  attemptKey: string;
  signal?: AbortSignal;
  /** Whole percent, throttled, non-decreasing within the attempt; 100 once committed. */
  onProgress?: (percent: number) => void | Promise<void>;
  onProgressError?: (error: unknown) => void;
  /** Zip archive comment: the processor stamps the job id so a later attempt recognises the file. */
  comment?: string;
  progressIntervalMs?: number;
  now?: () => Date;
}

export interface ExportPipelineResult {
  stat: SnapshotStat;
  size: number;
  sha256: string;
  /** Zip entries, the manifest included. */
  entries: number;
}

export async function runExport(options: ExportPipelineOptions): Promise<ExportPipelineResult> {
  const { store, cell, name, signal } = options;
  signal?.throwIfAborted();
  const entries = await store.exportEntries(cell);
  const totalBytes = entries.reduce((sum, entry) => sum + (entry.directory ? 0 : entry.size), 0);
  const progress = createProgressThrottle({
    totalBytes,
    report: options.onProgress ?? (() => {}),
    ...(options.onProgressError ? { onReportError: options.onProgressError } : {}),
    ...(options.progressIntervalMs !== undefined ? { minIntervalMs: options.progressIntervalMs } : {}),
  });
  const created = (options.now ?? (() => new Date()))();
  const manifest: SnapshotManifest = {
    export_version: EXPORT_VERSION,
    unit_url: options.unitUrl,
    create_date: created.getTime(),
  };

  const writer = await store.snapshots.createWriter(cell, name, options.attemptKey);
  try {
    const zipOptions: WriteZipOptions = {
      tempPath: writer.tempPath,
      manifest: Buffer.from(JSON.stringify(manifest)),
      created,
      entries,
      onBytes: (bytes) => progress.add(bytes),
      ...(signal ? { signal } : {}),
      ...(options.comment ? { comment: options.comment } : {}),
    };
    const { size, sha256, held } = fitsInMemory(entries, totalBytes, options.comment)
      ? await writeZipInMemory(zipOptions)
      : await writeZip(zipOptions);
    // A cancel that arrives before the rename wins; after it, the export is done.
    signal?.throwIfAborted();
    const stat = await writer.commit({ sha256, size, ...(held ? { data: held } : {}) });
    await progress.finish();
    return { stat, size, sha256, entries: entries.length + 1 };
  } catch (error) {
    await progress.flush();
    await writer.abort().catch(() => {});
    throw error;
  }
}

interface WriteZipOptions {
  tempPath: string;
  manifest: Buffer;
  created: Date;
  entries: readonly ExportEntry[];
  onBytes: (bytes: number) => void;
  signal?: AbortSignal;
  comment?: string;
}

/**
 * Writes the zip into `tempPath` (fsynced before this resolves), returning its size
 * and sha256 — or, for a zip smaller than one write batch, leaves the file empty and
 * returns the zip as `held`, for the commit to write (file-sink.ts).
 */
async function writeZip(
  options: WriteZipOptions,
): Promise<{ size: number; sha256: string; held: Buffer | undefined }> {
  const zip = new yazl.ZipFile();
  const output = zip.outputStream as unknown as Readable;
  // yazl reports entry failures on the ZipFile, not on its output: route them into
  // the output so the pipeline below rejects and tears everything down.
  const fail = (error: Error) => output.destroy(error);
  zip.on("error", fail);
  let source: Readable | undefined;
  // yazl moves on when a file's data has ended; its descriptor closes a moment later.
  // The next file waits for that, so one file is open at a time, whatever the timing.
  let sourceClosed: Promise<unknown> = Promise.resolve();

  zip.addBuffer(options.manifest, MANIFEST_ENTRY, {
    mtime: options.created,
    compressionLevel: compressionLevelFor(MANIFEST_ENTRY, options.manifest.length),
  });
  const addEntry = (entry: ExportEntry) => {
    if (entry.directory) {
      zip.addEmptyDirectory(entry.name, { mtime: entry.mtime });
      return;
    }
    // In memory already (it came with the listing) and stored, not deflated: added
    // as a buffer — no supplier, no stream. For a cell of small files the per-entry
    // stream machinery was most of the zip's CPU. (Not for content to deflate: yazl
    // starts a buffer's deflate when it is added, so a batch of them would hold a
    // zlib context each at once — +15 MiB peak for a big cell's prefetched files.)
    if (entry.size <= STORE_BELOW_BYTES) {
      const content = entry.takeContent?.();
      if (content) {
        options.onBytes(content.length);
        zip.addBuffer(content, entry.name, { mtime: entry.mtime, compressionLevel: 0 });
        return;
      }
    }
    // `size` makes yazl verify the byte count.
    const fileOptions = {
      mtime: entry.mtime,
      size: entry.size,
      compressionLevel: compressionLevelFor(entry.name, entry.size),
    };
    const read = entry.size <= READ_WHOLE_MAX_BYTES ? entry.read : undefined;
    const supply = (callback: (error: unknown, stream: Readable) => void) => {
      if (read) {
        read.call(entry).then(
          (data) => {
            options.onBytes(data.length);
            callback(null, bufferStream(data));
          },
          (error: unknown) => callback(error, undefined as never),
        );
        return;
      }
      try {
        source = entry.open();
      } catch (error) {
        callback(error, undefined as never);
        return;
      }
      sourceClosed = finished(source).catch(() => {});
      source.on("data", (chunk: Buffer) => options.onBytes(chunk.length));
      // yazl pipes what we hand it with .pipe(), which ignores source errors: catch them here.
      source.on("error", fail);
      callback(null, source);
    };
    zip.addReadStreamLazy(entry.name, fileOptions, (callback) => {
      void sourceClosed.then(() => supply(callback));
    });
  };

  const sink = new FileSink(options.tempPath);
  const written = pipeline(output, sink, options.signal ? { signal: options.signal } : {});
  // Awaited below; until then a failure only stops the adding (and must not count as unhandled).
  let failed = false;
  written.catch(() => {
    failed = true;
  });
  try {
    for (let start = 0; start < options.entries.length && !failed; start += ADD_BATCH) {
      if (start > 0) await nextTurn();
      for (const entry of options.entries.slice(start, start + ADD_BATCH)) addEntry(entry);
    }
    if (!failed) zip.end(options.comment ? { comment: options.comment, forceZip64Format: false } : undefined);
    await written;
  } finally {
    source?.destroy();
  }
  return { size: sink.bytes, sha256: sink.digest(), held: sink.held };
}

/**
 * Whether the cell is zipped in memory (zip-in-memory.ts): small enough that its zip
 * would be held by the FileSink anyway, and few enough entries to build in one step.
 * That step blocks the event loop: at these bounds, ~10 ms for 256 KiB of random
 * bytes to deflate and 9–26 ms for 200 deflated files of 1.3 KiB (the 2-core
 * development machine) — inside stack.md's budget (event-loop delay ≤ 100 ms).
 */
function fitsInMemory(entries: readonly ExportEntry[], totalBytes: number, comment = ""): boolean {
  return (
    totalBytes <= IN_MEMORY_MAX_BYTES &&
    entries.length < IN_MEMORY_MAX_ENTRIES &&
    isPlainAsciiComment(comment)
  );
}

/**
 * The zip of a small cell built in one synchronous step, with the same entries, order,
 * dates and compression as `writeZip`'s (sizes in the headers instead of data
 * descriptors). Content that came with the listing is used as it is; any other file
 * is read whole first.
 */
async function writeZipInMemory(
  options: WriteZipOptions,
): Promise<{ size: number; sha256: string; held: Buffer }> {
  const zipEntries: InMemoryZipEntry[] = [
    {
      name: MANIFEST_ENTRY,
      mtime: options.created,
      directory: false,
      data: options.manifest,
      compressionLevel: compressionLevelFor(MANIFEST_ENTRY, options.manifest.length),
    },
  ];
  for (const entry of options.entries) {
    if (entry.directory) {
      zipEntries.push({ name: entry.name, mtime: entry.mtime, directory: true });
      continue;
    }
    const data = entry.takeContent?.() ?? (entry.read ? await entry.read() : await buffer(entry.open()));
    if (data.length !== entry.size) {
      throw new Error(`${entry.name}: expected ${entry.size} bytes, found ${data.length} bytes`);
    }
    options.onBytes(data.length);
    zipEntries.push({
      name: entry.name,
      mtime: entry.mtime,
      directory: false,
      data,
      compressionLevel: compressionLevelFor(entry.name, entry.size),
    });
  }
  options.signal?.throwIfAborted();
  const zip = zipInMemory(zipEntries, options.comment);
  return { size: zip.length, sha256: createHash("sha256").update(zip).digest("hex"), held: zip };
}

/** Stored (0) when tiny or in a compressed format already (by the file's own name), else deflated. */
function compressionLevelFor(entryName: string, size: number): number {
  return size <= STORE_BELOW_BYTES || isCompressedFormat(fileNameOf(entryName)) ? 0 : COMPRESSION_LEVEL;
}

/** A file's own name: `20_webdav/__/docs/photo.jpg/content` → `photo.jpg` (a file's bytes are its `content`). */
function fileNameOf(entryName: string): string {
  const parts = entryName.split("/");
  const last = parts.length - 1;
  return parts[last] === CONTENT_FILE && last > 0 ? (parts[last - 1] ?? "") : (parts[last] ?? "");
}

/** A stream of one buffer, for yazl's lazy entries. */
function bufferStream(data: Buffer): Readable {
  return new Readable({
    read() {
      this.push(data);
      this.push(null);
    },
  });
}
