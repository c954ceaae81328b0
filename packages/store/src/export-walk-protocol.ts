/**
 * Messages between the export listing's helper thread (export-walk-thread.ts) and the
 * store (export-walker.ts). Types only: both sides import it, nothing runs here.
 */

export interface WalkRequest {
  id: number;
  /** Absolute paths to stat, in order (files among them may be prefetched). */
  stat: string[];
  /** A directory tree to list, depth first: a directory's files before its subdirectories. */
  walk: { root: string /** Names skipped directly under the root. */; excludeAtRoot: string[] };
  prefetch: PrefetchLimits;
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

export type WalkReply =
  /** Entries of the walk so far, in order (a big tree comes in several parts). */
  | { id: number; kind: "tree"; entries: TreeEntry[] }
  /** The last message of a request: the stat results (null: no such file). */
  | { id: number; kind: "done"; stats: Array<WalkedFile | null> }
  | { id: number; kind: "error"; message: string; code?: string };

/** Tree entries per message: keeps each message's decoding on the main thread short. */
export const TREE_CHUNK_ENTRIES = 2_000;
