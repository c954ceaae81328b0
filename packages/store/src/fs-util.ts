/** Small file-system helpers: streaming writes with a size limit, atomic replace, errno checks. */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { open, rename, rm, utimes } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TooLargeError } from "./errors.ts";

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
  try {
    await pipeline(body, meter, createWriteStream(filePath, { flags: "wx", flush: options.durable }));
    if (options.mtimeMs !== undefined) await setMtime(filePath, options.mtimeMs);
  } catch (error) {
    await removeQuietly(filePath);
    throw error;
  }
  const sha256 = meter.digest();
  return sha256 === undefined ? { size: meter.bytes } : { size: meter.bytes, sha256 };
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
    const handle = await open(temp, "wx");
    try {
      await handle.writeFile(data);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await removeQuietly(temp);
    throw error;
  }
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
