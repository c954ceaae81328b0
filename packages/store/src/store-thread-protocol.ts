/**
 * Messages between the store thread (store-thread-body.ts) and the store
 * (store-thread.ts), and the one encoding of a listing's parts both sides use.
 */
import type { Sidecar } from "./snapshot-sidecar.ts";

export type StoreRequest = WalkRequest | ListRequest | PublishRequest | RemoveRequest;

/** An export's listing: a tree walked, a few paths stat'ed, small files read. */
export interface WalkRequest {
  id: number;
  kind: "walk";
  /** Absolute paths to stat, in order (files among them may be prefetched). */
  stat: string[];
  /** A directory tree to list, depth first: a directory's files before its subdirectories. */
  walk: { root: string /** Names skipped directly under the root. */; excludeAtRoot: string[] };
  prefetch: PrefetchLimits;
}

/** Several directories' names at once (the temp-file sweep before each job). */
export interface ListRequest {
  id: number;
  kind: "list";
  dirs: string[];
}

/** Where a cell's snapshot area keeps its files, their sidecars and its temp files. */
export interface SnapshotAreaPaths {
  dir: string;
  metaDir: string;
  tmpDir: string;
}

/** Publishes the finished temp file `temp` as `name` (snapshot-publish.ts). */
export interface PublishRequest {
  id: number;
  kind: "publish";
  area: SnapshotAreaPaths;
  name: string;
  temp: string;
  /** The file's whole content, written and fsynced into `temp` first (a writer that kept it in memory). */
  data?: Uint8Array;
  /** The temp file must hold exactly this many bytes (a writer's commit, checking what it wrote). */
  expectSize?: number;
  size: number;
  sha256?: string;
  contentType?: string;
  ifMatch?: string;
  /** Refuse (AlreadyExistsError) when a file of that name is published: never replace one. */
  createOnly?: boolean;
  /** The store's clock: the new version's time. */
  now: number;
  durable: boolean;
}

/** Removes the published file `name` (snapshot-publish.ts). */
export interface RemoveRequest {
  id: number;
  kind: "remove";
  /** For the error when the cell does not exist. */
  cell: string;
  area: SnapshotAreaPaths;
  name: string;
  ifMatch?: string;
}

export interface PrefetchLimits {
  /** Files up to this size come back with their content. */
  maxFileBytes: number;
  /** Total content one request brings back; files past it are only listed. */
  budgetBytes: number;
}

export interface WalkedFile {
  size: number;
  mtimeMs: number;
  directory: boolean;
  /** The whole content (exactly `size` bytes), when prefetched. */
  data?: ArrayBuffer;
}

export interface TreeEntry extends WalkedFile {
  /** Path below the walk's root, `/`-separated; a directory's ends with `/`. */
  relative: string;
}

/**
 * Part of a walk, column by column: a handful of objects per message, not one per
 * entry, so decoding a big listing on the main thread neither stalls it nor feeds
 * its garbage collector a hundred thousand objects at once.
 */
export interface TreeChunk {
  /** Each entry's `relative`, joined with NUL (never part of a file name). */
  relatives: string;
  sizes: Float64Array<ArrayBuffer>;
  mtimesMs: Float64Array<ArrayBuffer>;
  /** 1 for a directory. */
  directories: Uint8Array<ArrayBuffer>;
  /** The prefetched entries' indexes, and their content in the same order. */
  dataIndexes: Int32Array<ArrayBuffer>;
  data: ArrayBuffer[];
}

export type StoreReply =
  /** Entries of the walk so far, in order (a big tree comes in several parts). */
  | { id: number; kind: "tree"; chunk: TreeChunk }
  /** The last message of a request: the stat results (null: no such file). */
  | { id: number; kind: "done"; stats: Array<WalkedFile | null> }
  /** A list request's answer: each directory's names, null for one that does not exist. */
  | { id: number; kind: "listed"; names: Array<string[] | null> }
  /** A publish's answer: the sidecar of the version it made. */
  | { id: number; kind: "published"; created: boolean; sidecar: Sidecar }
  | { id: number; kind: "removed" }
  /** `code`: the errno code; `storeError`: the StoreError subclass thrown, by name. */
  | { id: number; kind: "error"; message: string; code?: string; storeError?: string };

/** Tree entries per message: keeps each message's decoding on the main thread short. */
export const TREE_CHUNK_ENTRIES = 2_000;

const SEPARATOR = "\0";

export function encodeTreeChunk(entries: readonly TreeEntry[]): TreeChunk {
  const dataIndexes: number[] = [];
  const data: ArrayBuffer[] = [];
  entries.forEach((entry, i) => {
    if (entry.data) {
      dataIndexes.push(i);
      data.push(entry.data);
    }
  });
  return {
    relatives: entries.map((entry) => entry.relative).join(SEPARATOR),
    sizes: Float64Array.from(entries, (entry) => entry.size),
    mtimesMs: Float64Array.from(entries, (entry) => entry.mtimeMs),
    directories: Uint8Array.from(entries, (entry) => (entry.directory ? 1 : 0)),
    dataIndexes: Int32Array.from(dataIndexes),
    data,
  };
}

/** The buffers a chunk's message hands over instead of copying. */
export function treeChunkTransfers(chunk: TreeChunk): ArrayBuffer[] {
  return [
    chunk.sizes.buffer,
    chunk.mtimesMs.buffer,
    chunk.directories.buffer,
    chunk.dataIndexes.buffer,
    ...chunk.data,
  ];
}

export function decodeTreeChunk(chunk: TreeChunk, each: (entry: TreeEntry) => void): void {
  if (chunk.sizes.length === 0) return;
  const relatives = chunk.relatives.split(SEPARATOR);
  let nextData = 0;
  for (let i = 0; i < relatives.length; i++) {
    const withData = chunk.dataIndexes[nextData] === i;
    const data = withData ? chunk.data[nextData++] : undefined;
    each({
      relative: relatives[i] ?? "",
      size: chunk.sizes[i] ?? 0,
      mtimeMs: chunk.mtimesMs[i] ?? 0,
      directory: chunk.directories[i] === 1,
      ...(data ? { data } : {}),
    });
  }
}
