/**
 * The zip's way to disk: a Writable that hashes and counts what it is given and
 * writes it in large batches, then fsyncs and closes the file in `final` — so the
 * bytes are on disk, not only in the page cache, before anyone renames the file into
 * place. A zip arrives as many small chunks (a header, a few hundred bytes of data
 * and a descriptor per entry); a WriteStream writes each chunk that arrives while it
 * is idle, and each write is a round trip to the libuv thread pool. Here a big zip is
 * written `batchBytes` at a time, one write in flight while the next batch fills.
 *
 * A zip that ends before its first batch is full (and before `maxDelayMs`) is never
 * written here: the file is not even opened, and `held` has the whole zip when the
 * sink finishes. The caller hands it to the snapshot writer's commit, which writes it
 * in the same step as the publish.
 */
import { createHash } from "node:crypto";
import { close, fsync, open, write } from "node:fs";
import { Writable } from "node:stream";

/** Bytes gathered before a write: a small zip fits in one. */
export const WRITE_BATCH_BYTES = 256 * 1024;

/**
 * Nothing waits longer than this for its batch to fill: a live export's temp file
 * keeps being written (its mtime fresh), as the temp sweep expects of a live attempt
 * — highly compressible data may take a while to make a batch of zip.
 */
export const WRITE_MAX_DELAY_MS = 1000;

export interface FileSinkOptions {
  batchBytes?: number;
  maxDelayMs?: number;
  now?: () => number;
}

type Callback = (error?: Error | null) => void;

export class FileSink extends Writable {
  /** Bytes written so far (accepted, not necessarily on disk until `finish`). */
  bytes = 0;
  /** Batches started, each one write() unless the disk takes it in parts: what the batching saves (tests). */
  batchesWritten = 0;
  /** After `finish`: the whole content when none of it was written (see above). */
  held: Buffer | undefined;
  private readonly hash = createHash("sha256");
  private readonly batchBytes: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;
  private lastWriteAt: number;
  private fd: number | undefined;
  /** Whether the file was opened (or is being opened): from the first batch on. */
  private opened = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private position = 0;
  private writing = false;
  private writeError: Error | null = null;
  /** What waits for the write in flight to settle. */
  private waiting: Array<() => void> = [];

  constructor(
    readonly path: string,
    options: FileSinkOptions = {},
  ) {
    super();
    this.batchBytes = options.batchBytes ?? WRITE_BATCH_BYTES;
    this.maxDelayMs = options.maxDelayMs ?? WRITE_MAX_DELAY_MS;
    this.now = options.now ?? Date.now;
    this.lastWriteAt = this.now();
  }

  /** Hex sha256 of everything written; call once, after `finish`. */
  digest(): string {
    return this.hash.digest("hex");
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: Callback): void {
    if (this.writeError) {
      callback(this.writeError);
      return;
    }
    this.bytes += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.batchBytes && this.now() - this.lastWriteAt < this.maxDelayMs) {
      callback();
      return;
    }
    // A full (or old enough) batch: start writing it once the previous write is done,
    // and take more chunks meanwhile — at most two batches are held.
    this.whenIdle(() => {
      if (this.writeError) return callback(this.writeError);
      this.startWrite();
      callback();
    });
  }

  override _final(callback: Callback): void {
    if (!this.opened) {
      this.held = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
      this.hash.update(this.held);
      this.pending = [];
      callback();
      return;
    }
    this.whenIdle(() => {
      if (this.writeError) return callback(this.writeError);
      if (this.pendingBytes > 0) this.startWrite();
      this.whenIdle(() => {
        const fd = this.fd;
        if (this.writeError || fd === undefined) return callback(this.writeError);
        fsync(fd, (syncError) => {
          this.fd = undefined;
          close(fd, (closeError) => callback(syncError ?? closeError));
        });
      });
    });
  }

  override _destroy(error: Error | null, callback: Callback): void {
    // Never close the descriptor under a write in flight: the number could be reused
    // by another open() and the write land in someone else's file.
    this.whenIdle(() => {
      const fd = this.fd;
      this.fd = undefined;
      this.pending = [];
      if (fd === undefined) return callback(error);
      close(fd, () => callback(error));
    });
  }

  private whenIdle(run: () => void): void {
    if (this.writing) this.waiting.push(run);
    else run();
  }

  private startWrite(): void {
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    // Hashed a batch at a time: one update per batch, not one per small chunk.
    this.hash.update(data);
    this.pending = [];
    this.pendingBytes = 0;
    this.lastWriteAt = this.now();
    this.writing = true;
    this.batchesWritten++;
    if (this.opened) {
      this.writeAll(data, 0);
      return;
    }
    // The first batch: the file is opened now (a zip that never fills one is held instead).
    this.opened = true;
    open(this.path, "w", (error, fd) => {
      if (error) return this.writeDone(error);
      this.fd = fd;
      this.writeAll(data, 0);
    });
  }

  private writeAll(data: Buffer, offset: number): void {
    const fd = this.fd;
    if (fd === undefined) {
      this.writeDone(new Error(`File sink ${this.path} is not open`));
      return;
    }
    write(fd, data, offset, data.length - offset, this.position, (error, written) => {
      if (error) {
        this.writeDone(error);
        return;
      }
      this.position += written;
      if (offset + written < data.length) this.writeAll(data, offset + written);
      else this.writeDone(null);
    });
  }

  private writeDone(error: Error | null): void {
    this.writing = false;
    if (error) this.writeError ??= error;
    // One at a time: a waiter may start the next write, and the rest then wait for it.
    while (!this.writing) {
      const run = this.waiting.shift();
      if (!run) break;
      run();
    }
  }
}
