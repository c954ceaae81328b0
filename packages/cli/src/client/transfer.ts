/**
 * Streaming snapshot transfers with progress and sha256, shared by `snapshots get/put`,
 * the load test's verification and the benchmarks. Downloads resume: bytes go to
 * `{dest}.part` (its ETag beside it in `{dest}.part.json`); a second run asks for the
 * rest with `Range` and keeps the part only if the server answers 206 for the same
 * ETag. The file appears under `dest` only when complete (and verified, when the
 * expected sha256 is known).
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { OperationFailedError } from "../errors.ts";
import type { CellportClient } from "./http-client.ts";

export type TransferProgress = (done: number, total: number | undefined) => void;

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** Bytes that were already on disk from an earlier, interrupted run. */
  resumedFrom: number;
}

/** Counts and hashes the bytes that flow through. */
function meter(hash: Hash, onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      onBytes(chunk.length);
      callback(null, chunk);
    },
  });
}

async function fileSize(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** `bytes 100-199/200` → 100. */
function rangeStart(contentRange: string | null): number | null {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(contentRange ?? "");
  return match ? Number(match[1]) : null;
}

export async function downloadSnapshotFile(
  client: CellportClient,
  cell: string,
  file: string,
  dest: string,
  options: {
    resume?: boolean;
    expectedSha256?: string | undefined;
    onProgress?: TransferProgress;
    signal?: AbortSignal;
  } = {},
): Promise<DownloadResult> {
  const part = `${dest}.part`;
  const sidecar = `${dest}.part.json`;
  const resume = options.resume ?? true;
  let offset = resume ? await fileSize(part) : 0;
  const savedEtag = offset > 0 ? await readEtag(sidecar) : undefined;
  if (offset > 0 && !savedEtag) offset = 0; // a part without its ETag cannot be trusted

  let response = await client.downloadSnapshot(
    cell,
    file,
    offset > 0 ? { offset, ...(savedEtag ? { etag: savedEtag } : {}) } : undefined,
  );
  const sameFile =
    response.status === 206 &&
    rangeStart(response.headers.get("content-range")) === offset &&
    response.headers.get("etag") === savedEtag;
  if (offset > 0 && !sameFile) {
    // 200 (range ignored or file changed), 416 (part as long as the file or longer), or
    // another ETag: start over.
    await response.discard();
    offset = 0;
    response = await client.downloadSnapshot(cell, file);
  }
  const etag = response.headers.get("etag");
  if (offset === 0 && etag) await writeFile(sidecar, JSON.stringify({ etag }));

  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  const total = Number.isFinite(length) ? offset + length : undefined;
  const hash = createHash("sha256");
  if (offset > 0) await hashFile(part, hash);
  let done = offset;
  options.onProgress?.(done, total);
  await pipeline(
    response.body,
    meter(hash, (n) => {
      done += n;
      options.onProgress?.(done, total);
    }),
    createWriteStream(part, { flags: offset > 0 ? "a" : "w" }),
    ...(options.signal ? [{ signal: options.signal }] : []),
  );
  const sha256 = hash.digest("hex");
  if (total !== undefined && done !== total) {
    throw new OperationFailedError(
      `download of ${file} ended after ${done} of ${total} bytes (run again to resume)`,
    );
  }
  if (options.expectedSha256 && options.expectedSha256.toLowerCase() !== sha256) {
    await rm(part, { force: true });
    await rm(sidecar, { force: true });
    throw new OperationFailedError(
      `sha256 mismatch for ${file}: expected ${options.expectedSha256}, got ${sha256} (download removed)`,
    );
  }
  await rename(part, dest);
  await rm(sidecar, { force: true });
  return { path: dest, size: done, sha256, resumedFrom: offset };
}

async function readEtag(sidecar: string): Promise<string | undefined> {
  try {
    const value = JSON.parse(await readFile(sidecar, "utf8")) as { etag?: unknown };
    // Only a well-formed entity tag goes back into a header; anything else restarts the download.
    return typeof value.etag === "string" && /^(W\/)?"[\x21\x23-\x7e]*"$/.test(value.etag)
      ? value.etag
      : undefined;
  } catch {
    return undefined;
  }
}

export async function uploadSnapshotFile(
  client: CellportClient,
  cell: string,
  file: string,
  source: string,
  options: { contentType?: string; onProgress?: TransferProgress } = {},
): Promise<{ created: boolean; etag: string | null; size: number; sha256: string }> {
  const size = (await stat(source)).size;
  const hash = createHash("sha256");
  let done = 0;
  options.onProgress?.(0, size);
  const body = createReadStream(source).pipe(
    meter(hash, (n) => {
      done += n;
      options.onProgress?.(done, size);
    }),
  );
  const result = await client.uploadSnapshot(cell, file, body, size, options.contentType);
  return { ...result, size, sha256: hash.digest("hex") };
}
