/**
 * The cell store and snapshot area, as ports named after domain operations. The
 * file-system adapter (`createFsStore`) is the embedded default; a shared file
 * system (NFS) is enough for several api/worker machines, so no adapter may keep
 * state in process memory that another process needs.
 *
 * Paths inside a cell's file tree are POSIX, relative to the tree root, with the main
 * box as `__` (e.g. `__/docs/a.txt`). Every path and file name is validated by the
 * adapter (InvalidPathError) before it touches the file system.
 */
import type { Readable } from "node:stream";
import type { EntityDocument, EntityType, ResourceMeta } from "@cellport/shared";

export interface CellDocument {
  /** Cell id (stable, a UUID-like string without dashes, as Personium's). */
  id: string;
  name: string;
  /** Published / updated, epoch ms. */
  published: number;
  updated: number;
  /** The document exactly as it goes into `10_odata/00_cell.json`. */
  raw: Record<string, unknown>;
}

/** One node of a cell's file tree, in walk order (a collection before its children). */
export interface TreeNode {
  /** e.g. `__`, `__/docs`, `__/docs/a.txt`. */
  path: string;
  meta: ResourceMeta;
  /** Content bytes for `dav.file`, 0 for collections. */
  size: number;
}

export interface ResourceStat {
  path: string;
  meta: ResourceMeta;
  size: number;
  etag: string;
  isCollection: boolean;
}

export interface WriteOptions {
  contentType?: string;
  /** `*` or an ETag; mismatch → PreconditionFailedError. */
  ifMatch?: string;
  /** Refuse (TooLargeError) past this many bytes, while streaming. */
  maxBytes?: number;
}

export interface WriteResult {
  created: boolean;
  etag: string;
}

/** One entry of the export source, in the snapshot zip's order and naming (spec §7). */
export interface ExportEntry {
  /** Zip entry name, e.g. `10_odata/10_box.pjson`, `20_webdav/__/docs/a.txt/content`. */
  name: string;
  /** Exact byte size of what `open()` yields (known before reading, for progress weighting). */
  size: number;
  /** Directory entries carry no data. */
  directory: boolean;
  /** mtime to record in the zip. */
  mtime: Date;
  open(): Readable;
  /**
   * The whole content in one buffer, for small entries (the caller decides what is
   * small; this holds `size` bytes in memory). Content that came with the listing
   * (the file-system adapter brings small files' along) serves the first `read()` or
   * `open()` as it was listed; otherwise this opens lazily like `open()`, and rejects
   * (ConflictError for the file-system adapter) when the content no longer has `size`
   * bytes — it changed since it was listed. Optional: without it, callers stream
   * with `open()`.
   */
  read?(): Promise<Buffer>;
  /**
   * The content, when it is in memory already (it came with the listing), handed
   * over once: later calls return undefined, and `read()` and `open()` go to the
   * source. Undefined when it is not in memory. Optional.
   */
  takeContent?(): Buffer | undefined;
}

export interface CellStore {
  /** Throws CellExistsError; throws InvalidNameError for a bad name. */
  createCell(name: string): Promise<CellDocument>;
  /** Removes the cell, its data and its snapshots. Throws CellNotFoundError. */
  deleteCell(name: string): Promise<void>;
  getCell(name: string): Promise<CellDocument | null>;
  /** Whether the cell exists: one cheap check, for the api's per-request cell resolution. */
  hasCell(name: string): Promise<boolean>;
  listCells(): Promise<string[]>;

  /** Appends entity documents (seed / tests). Each document's `_type` must be `type`. */
  appendEntities(
    cell: string,
    type: EntityType,
    docs: Iterable<EntityDocument> | AsyncIterable<EntityDocument>,
  ): Promise<void>;
  /** Reads a cell's entities of one type, one parsed document at a time. */
  readEntities(cell: string, type: EntityType): AsyncIterable<EntityDocument>;

  // --- the main box's file tree (WebDAV subset) ---
  stat(cell: string, path: string): Promise<ResourceStat | null>;
  /** Children of a collection, one level. Throws NotFoundError. */
  list(cell: string, path: string): Promise<ResourceStat[]>;
  /** Throws AlreadyExistsError (405 in WebDAV terms) or ConflictError when the parent is missing. */
  mkcol(cell: string, path: string): Promise<ResourceStat>;
  /** Streams to a temp file and renames into place: a reader never sees half a file. */
  putFile(cell: string, path: string, body: Readable, options?: WriteOptions): Promise<WriteResult>;
  /**
   * Throws NotFoundError, ConflictError (a collection), RangeNotSatisfiableError
   * (`range` is inclusive; `end` past the file is clamped, `start` past it is refused).
   */
  openFile(
    cell: string,
    path: string,
    range?: { start: number; end: number },
  ): Promise<{ stat: ResourceStat; stream: Readable }>;
  /** Throws NotFoundError / PreconditionFailedError / ConflictError (non-empty collection). */
  deleteResource(cell: string, path: string, options?: { ifMatch?: string }): Promise<void>;

  /** Every entry of the cell's snapshot, in order, with sizes; never the snapshot area, `.pkeys`, `.pauthhistory`. */
  exportEntries(cell: string): Promise<ExportEntry[]>;

  /**
   * Stages a whole new content for a cell (import) next to it; `commit()` swaps it in
   * atomically, `abort()` removes it. Until commit the cell is untouched.
   */
  beginReplace(cell: string): Promise<CellReplacement>;

  /**
   * Writes a file of the cell's internal data (`.pkeys/`, `.pauthhistory/`), which
   * an import never replaces and an export never contains. Optional: for the seed
   * and tests.
   */
  writeInternalFile?(cell: string, area: InternalArea, name: string, data: Buffer | string): Promise<void>;

  readonly snapshots: SnapshotArea;
}

/** The cell's internal areas, excluded from snapshots (spec §7). */
export type InternalArea = ".pkeys" | ".pauthhistory";

/** Writes of an import's new cell content, in snapshot vocabulary. */
export interface CellReplacement {
  writeCellDocument(raw: Record<string, unknown>): Promise<void>;
  writeEntities(
    type: EntityType,
    lines: AsyncIterable<EntityDocument> | Iterable<EntityDocument>,
  ): Promise<void>;
  /** Writes one file of the tree, by its path inside `20_webdav/` (e.g. `__/docs/.pmeta`). */
  writeTreeFile(relativePath: string, body: Readable): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface SnapshotStat {
  name: string;
  size: number;
  contentType: string;
  etag: string;
  created: Date;
  updated: Date;
  sha256?: string;
}

export interface SnapshotArea {
  /** Committed files only: in-progress exports and temp files never appear. */
  list(cell: string): Promise<SnapshotStat[]>;
  stat(cell: string, name: string): Promise<SnapshotStat | null>;
  /** Throws NotFoundError, RangeNotSatisfiableError. `range` is inclusive. */
  open(
    cell: string,
    name: string,
    range?: { start: number; end: number },
  ): Promise<{ stat: SnapshotStat; stream: Readable }>;
  put(cell: string, name: string, body: Readable, options?: WriteOptions): Promise<WriteResult>;
  /** Throws NotFoundError / PreconditionFailedError. */
  delete(cell: string, name: string, options?: { ifMatch?: string }): Promise<void>;

  /**
   * A temp file for an export attempt: its path, in the snapshot area's temp
   * directory, for the caller to create and write (or content handed to `commit`
   * whole). `attemptKey` (job id + attempt) makes retries
   * of one job never share a temp file. `commit` renames it into place — the only
   * commit point — and records size, sha256 and ETag; it also removes a stale
   * `{Name}.error`. `name` is the snapshot `Name` (`.zip` is appended) or the file
   * name ending in `.zip`.
   */
  createWriter(cell: string, name: string, attemptKey: string): Promise<SnapshotWriter>;
  /**
   * Writes `{name}.error` (content type `application/json`, spec §3.3) like any
   * file, so it lists and downloads. `name` is the snapshot `Name` (a trailing
   * `.zip` is dropped).
   */
  writeError(cell: string, name: string, body: unknown): Promise<void>;
  /**
   * Removes temp files older than `olderThanMs` (left by killed workers) — snapshot
   * temp files, the cell's box-write temp files, orphaned sidecars — and staged
   * generations of crashed imports older than the store's own threshold. Returns how many.
   */
  sweepTemp(cell: string, olderThanMs: number): Promise<number>;
}

export interface SnapshotWriter {
  readonly tempPath: string;
  /**
   * Publishes the temp file, which must hold `size` bytes. `data`, when given, is the
   * whole file, kept in memory by a writer that never wrote it: the commit writes it
   * into the temp file (on disk before the rename) — for a small snapshot, one step
   * instead of a write of its own first. A writer never replaces a published file:
   * AlreadyExistsError when one of its name exists (the temp file stays, for `abort`).
   */
  commit(info: { sha256: string; size: number; data?: Uint8Array }): Promise<SnapshotStat>;
  abort(): Promise<void>;
}
