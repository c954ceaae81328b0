/** Small file-system helpers: streaming writes with a size limit, atomic replace, errno checks. */
import { createHash } from "node:crypto";
import { once } from "node:events";
import {
  close,
  closeSync,
  createWriteStream,
  fsync,
  fsyncSync,
  open,
  openSync,
  read,
  renameSync,
  rmSync,
  writeFile,
  writeFileSync,
} from "node:fs";
import { rename, rm, utimes } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ConflictError, TooLargeError } from "./errors.ts";

export function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

export function isNotFound(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

/** rename() onto an existing non-empty directory fails with one of these. */
export function isAlreadyExists(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "EEXIST" || code === "ENOTEMPTY";
}

/** A unique name for a temp file or directory; the prefix says what it was for. */
export function tempName(prefix: string): string {
  return `${prefix}-${Date.now()}-${globalThis.crypto.randomUUID()}`;
}

export async function removeTree(target: string): Promise<void> {
  await rm(target, { recursive: true, force: true, maxRetries: 3 });
}

export async function removeQuietly(target: string): Promise<void> {
  await rm(target, { recursive: true, force: true }).catch(() => undefined);
}

/** removeQuietly's blocking twin, for the store thread only. */
export function removeQuietlySync(target: string): void {
  try {
    rmSync(target, { recursive: true, force: true });
  } catch {
    // Left for the temp sweep.
  }
}

/** Counts bytes (and optionally hashes them), failing with TooLargeError past `maxBytes`. */
class MeteredPassThrough extends Transform {
  bytes = 0;
  private readonly hash;

  constructor(
    private readonly maxBytes: number,
    withHash: boolean,
  ) {
    super();
    this.hash = withHash ? createHash("sha256") : null;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      callback(new TooLargeError(`Expected at most ${this.maxBytes} bytes, got more`));
      return;
    }
    this.hash?.update(chunk);
    callback(null, chunk);
  }

  digest(): string | undefined {
    return this.hash?.digest("hex");
  }
}

export interface StreamToFileOptions {
  maxBytes?: number;
  hash?: boolean;
  /** fsync before close, so a rename after it never exposes an empty file after a power loss. */
  durable: boolean;
  /** Set the file's mtime (epoch ms) once written: readers use it to pair content with metadata. */
  mtimeMs?: number;
}

/**
 * Streams `body` into a new file (`wx`: never overwrites), never buffering the whole
 * body. On any failure — the limit, a broken body, a full disk — the file is removed
 * and the error rethrown.
 */
export async function streamToFile(
  body: Readable,
  filePath: string,
  options: StreamToFileOptions,
): Promise<{ size: number; sha256?: string }> {
  const meter = new MeteredPassThrough(options.maxBytes ?? Number.POSITIVE_INFINITY, options.hash ?? false);
  const file = createWriteStream(filePath, { flags: "wx", flush: options.durable });
  try {
    await pipeline(body, meter, file);
    if (options.mtimeMs !== undefined) await setMtime(filePath, options.mtimeMs);
  } catch (error) {
    // A body that fails at once can reject the pipeline while the file's open is
    // still in flight: the file would appear after the removal. Wait for it to close.
    if (!file.closed) await once(file, "close").catch(() => undefined);
    await removeQuietly(filePath);
    throw error;
  }
  const sha256 = meter.digest();
  return sha256 === undefined ? { size: meter.bytes } : { size: meter.bytes, sha256 };
}

/**
 * Reads a whole file that was listed with `size` bytes: one open, one read, one close
 * through the callback API — fewer thread-pool round trips than readFile (which
 * also fstats) or a ReadStream (which reads again to see the end).
 * Rejects with ConflictError when the file no longer has `size` bytes — it changed
 * after it was listed — so a caller never gets bytes that contradict the size it
 * announced. It asks for one byte more than `size`: a file that grew fills it. POSIX
 * read() on a regular file returns fewer bytes than asked only at end of file, so
 * reaching exactly `size` ends the read without a second call to see the 0; below
 * `size` it reads on until a read returns 0, so a short read never passes for a
 * shrunk file.
 */
export function readWholeFile(filePath: string, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    open(filePath, "r", (openError, fd) => {
      if (openError) return reject(openError);
      const buffer = Buffer.allocUnsafe(size + 1);
      let filled = 0;
      const finish = (error: Error | null) => {
        close(fd, (closeError) => {
          const failure = error ?? closeError;
          if (failure) reject(failure);
          else resolve(buffer.subarray(0, size));
        });
      };
      const readMore = () => {
        read(fd, buffer, filled, buffer.length - filled, filled, (readError, bytesRead) => {
          if (readError) return finish(readError);
          filled += bytesRead;
          if (filled > size) return finish(changedSize(filePath, size, "more"));
          if (filled === size) return finish(null);
          if (bytesRead === 0) return finish(changedSize(filePath, size, `only ${filled}`));
          readMore();
        });
      };
      readMore();
    });
  });
}

function changedSize(filePath: string, size: number, found: string): ConflictError {
  return new ConflictError(
    `Expected ${size} bytes in ${filePath}, found ${found}: the file changed while it was being exported`,
  );
}

export async function setMtime(filePath: string, mtimeMs: number): Promise<void> {
  const when = new Date(mtimeMs);
  await utimes(filePath, when, when);
}

/** Writes a small file under `tmpDir` and renames it over `target`: readers see old or new, never half. */
export async function writeFileAtomic(
  target: string,
  data: string | Buffer,
  tmpDir: string,
  durable: boolean,
): Promise<void> {
  const temp = path.join(tmpDir, tempName("w"));
  try {
    // The callback API: open, write, fsync (`flush`), close without a FileHandle's overhead.
    await new Promise<void>((resolve, reject) => {
      writeFile(temp, data, { flag: "wx", flush: durable }, (error) => (error ? reject(error) : resolve()));
    });
    await rename(temp, target);
  } catch (error) {
    await removeQuietly(temp);
    throw error;
  }
}

/** writeFileAtomic's blocking twin, for the store thread only. */
export function writeFileAtomicSync(target: string, data: string, tmpDir: string, durable: boolean): void {
  const temp = path.join(tmpDir, tempName("w"));
  try {
    writeFileSync(temp, data, { flag: "wx", flush: durable });
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * Makes the entries of `dir` (a rename into it, a file created in it) survive a power
 * loss: fsync of the file alone does not cover its name. A file system that cannot
 * fsync a directory (EINVAL, as some network or FUSE ones answer) is taken at its word
 * that its metadata is already durable.
 */
export function syncDirectory(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    open(dir, "r", (openError, fd) => {
      if (openError) return reject(openError);
      fsync(fd, (syncError) => {
        close(fd, (closeError) => {
          const failure = syncError && !cannotSyncDirectories(syncError) ? syncError : closeError;
          if (failure) reject(failure);
          else resolve();
        });
      });
    });
  });
}

/** syncDirectory's blocking twin, for the store thread only. */
export function syncDirectorySync(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!cannotSyncDirectories(error)) throw error;
  } finally {
    closeSync(fd);
  }
}

function cannotSyncDirectories(error: unknown): boolean {
  return errnoCode(error) === "EINVAL";
}

/** Small bounded-concurrency map that keeps input order in its result. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
