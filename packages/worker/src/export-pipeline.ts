/**
 * One export attempt: streams the cell as a version-2 snapshot zip (spec §7) into
 * the attempt's temp file, hashing and counting on the way, and publishes it with
 * `writer.commit` — the rename, and the only commit point. Any failure or abort
 * before that removes the temp file; nothing is ever half-published.
 *
 * Memory stays flat: entries are added with `addReadStreamLazy`, so one file is open
 * at a time and no file is read whole; only the manifest is a buffer.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { type Readable, pipeline as streamPipeline, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { EXPORT_VERSION, MANIFEST_ENTRY, type SnapshotManifest } from "@cellport/shared";
import type { CellStore, ExportEntry, SnapshotStat } from "@cellport/store";
import yazl from "yazl";
import { createProgressThrottle } from "./progress-throttle.ts";

/** Deflate level: the fastest with a good ratio here (stack.md). */
export const COMPRESSION_LEVEL = 6;

/**
 * Entries at most this big are stored, not deflated: `.pmeta` documents and small
 * files save a few dozen bytes at best, while each deflate stream costs a zlib
 * context (~300 KiB allocated and freed) — the main cost of exporting small cells.
 */
export const STORE_BELOW_BYTES = 1024;

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
    const { size, sha256 } = await writeZip({
      tempPath: writer.tempPath,
      manifest: Buffer.from(JSON.stringify(manifest)),
      created,
      entries,
      onBytes: (bytes) => progress.add(bytes),
      ...(signal ? { signal } : {}),
      ...(options.comment ? { comment: options.comment } : {}),
    });
    // A cancel that arrives before the rename wins; after it, the export is done.
    signal?.throwIfAborted();
    const stat = await writer.commit({ sha256, size });
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

/** Streams the zip into `tempPath` (fsynced), returning its size and sha256. */
async function writeZip(options: WriteZipOptions): Promise<{ size: number; sha256: string }> {
  const zip = new yazl.ZipFile();
  const output = zip.outputStream as unknown as Readable;
  // yazl reports entry failures on the ZipFile, not on its output: route them into
  // the output so the pipeline below rejects and tears everything down.
  const fail = (error: Error) => output.destroy(error);
  zip.on("error", fail);
  let source: Readable | undefined;

  zip.addBuffer(options.manifest, MANIFEST_ENTRY, {
    mtime: options.created,
    compressionLevel: COMPRESSION_LEVEL,
  });
  for (const entry of options.entries) {
    if (entry.directory) {
      zip.addEmptyDirectory(entry.name, { mtime: entry.mtime });
      continue;
    }
    // `size` makes yazl verify the byte count.
    const fileOptions = {
      mtime: entry.mtime,
      size: entry.size,
      compressionLevel: entry.size <= STORE_BELOW_BYTES ? 0 : COMPRESSION_LEVEL,
    };
    zip.addReadStreamLazy(entry.name, fileOptions, (callback) => {
      try {
        source = entry.open();
      } catch (error) {
        callback(error, undefined as never);
        return;
      }
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          options.onBytes(chunk.length);
          done(null, chunk);
        },
      });
      // yazl pipes what we hand it with .pipe(), which ignores source errors: catch them here.
      streamPipeline(source, counter, (error) => {
        if (error) fail(error);
      });
      callback(null, counter);
    });
  }
  zip.end(options.comment ? { comment: options.comment, forceZip64Format: false } : undefined);

  const hash = createHash("sha256");
  let size = 0;
  const digest = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    // `flush`: fsync before close — the rename must never publish bytes still only in the page cache.
    await pipeline(output, digest, createWriteStream(options.tempPath, { flush: true }), {
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } finally {
    source?.destroy();
  }
  return { size, sha256: hash.digest("hex") };
}
