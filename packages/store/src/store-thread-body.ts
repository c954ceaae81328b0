/**
 * The store thread: runs the store's many-call file-system sequences with blocking
 * calls, off the main thread — an export's listing (stats, readdirs, its small
 * files' content), the temp-file sweep's directory listings, and the snapshot area's
 * publish and remove (snapshot-publish.ts). One message replaces a thread-pool round
 * trip per stat, readdir, open, read, write, fsync, rename and close; for a cell of
 * small files those round trips were most of an export's CPU. Blocking here never
 * delays the event loop of the process (job locks, progress, cancels). Requests run
 * one at a time, in order.
 */
import { closeSync, type Dirent, fstatSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import path from "node:path";
import { parentPort } from "node:worker_threads";
import { StoreError } from "./errors.ts";
import { publishSnapshot, removeSnapshot } from "./snapshot-publish.ts";
import {
  encodeTreeChunk,
  type ListRequest,
  type PrefetchLimits,
  type StoreReply,
  type StoreRequest,
  TREE_CHUNK_ENTRIES,
  type TreeEntry,
  treeChunkTransfers,
  type WalkedFile,
  type WalkRequest,
} from "./store-thread-protocol.ts";

if (!parentPort) throw new Error("store-thread-body runs as a worker thread");
const port = parentPort;

port.on("message", (request: StoreRequest) => {
  try {
    switch (request.kind) {
      case "walk":
        return walk(request);
      case "list":
        return list(request);
      case "publish":
        return port.postMessage({
          id: request.id,
          kind: "published",
          ...publishSnapshot(request),
        } satisfies StoreReply);
      case "remove":
        removeSnapshot(request);
        return port.postMessage({ id: request.id, kind: "removed" } satisfies StoreReply);
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    port.postMessage({
      id: request.id,
      kind: "error",
      message: error instanceof Error ? error.message : String(error),
      ...(typeof code === "string" ? { code } : {}),
      ...(error instanceof StoreError ? { storeError: error.name } : {}),
    } satisfies StoreReply);
  }
});

/** What one request may still prefetch. */
class Prefetch {
  private left: number;
  constructor(private readonly limits: PrefetchLimits) {
    this.left = limits.budgetBytes;
  }

  /** The file's size, mtime and (when small enough and within the budget) content. */
  file(absolute: string): WalkedFile {
    const fd = openSync(absolute, "r");
    try {
      // Size and content from the same open file, so they always agree.
      const info = fstatSync(fd);
      if (info.isDirectory()) return { size: 0, mtimeMs: info.mtimeMs, directory: true };
      if (info.size > this.limits.maxFileBytes || info.size > this.left) {
        return { size: info.size, mtimeMs: info.mtimeMs, directory: false };
      }
      const data = new Uint8Array(info.size);
      let filled = 0;
      while (filled < data.length) {
        const read = readSync(fd, data, filled, data.length - filled, filled);
        if (read === 0) break;
        filled += read;
      }
      this.left -= filled;
      // Its own ArrayBuffer (never a pooled one), so it can be transferred, not copied.
      const content = filled === data.length ? data.buffer : data.slice(0, filled).buffer;
      return { size: filled, mtimeMs: info.mtimeMs, directory: false, data: content };
    } finally {
      closeSync(fd);
    }
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

function list(request: ListRequest): void {
  const names = request.dirs.map((dir) => {
    try {
      return readdirSync(dir);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  });
  port.postMessage({ id: request.id, kind: "listed", names } satisfies StoreReply);
}

function walk(request: WalkRequest): void {
  const prefetch = new Prefetch(request.prefetch);
  const stats = request.stat.map((absolute) => {
    try {
      return prefetch.file(absolute);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  });
  const pending: TreeEntry[] = [];
  const flush = () => {
    const chunk = encodeTreeChunk(pending.splice(0));
    port.postMessage({ id: request.id, kind: "tree", chunk } satisfies StoreReply, treeChunkTransfers(chunk));
  };
  visit(request.walk.root, "", new Set(request.walk.excludeAtRoot), (entry) => {
    pending.push(entry);
    if (pending.length >= TREE_CHUNK_ENTRIES) flush();
  });
  if (pending.length > 0) flush();
  port.postMessage({ id: request.id, kind: "done", stats } satisfies StoreReply, transfers(stats));

  /** Depth first, names sorted by code unit, a directory's files before its subdirectories. */
  function visit(
    absolute: string,
    relative: string,
    exclude: Set<string>,
    emit: (e: TreeEntry) => void,
  ): void {
    const dirents = readdirSync(absolute, { withFileTypes: true })
      .filter((d) => !exclude.has(d.name))
      .sort(byName);
    for (const d of dirents) {
      if (d.isFile())
        emit({ relative: `${relative}${d.name}`, ...prefetch.file(path.join(absolute, d.name)) });
    }
    const none = new Set<string>();
    for (const d of dirents) {
      if (!d.isDirectory()) continue;
      const child = path.join(absolute, d.name);
      emit({ relative: `${relative}${d.name}/`, size: 0, mtimeMs: statSync(child).mtimeMs, directory: true });
      visit(child, `${relative}${d.name}/`, none, emit);
    }
  }
}

function transfers(files: Array<WalkedFile | null>): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const file of files) if (file?.data) buffers.push(file.data);
  return buffers;
}

function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
