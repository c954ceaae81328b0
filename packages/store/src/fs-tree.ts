/**
 * A cell's file tree (the WebDAV subset): Personium's layout, one directory per
 * resource with `.pmeta`, plus `content` for a file (see fs-layout.ts).
 *
 * Atomicity: a new resource appears with one rename() of a complete directory built
 * in the cell's `tmp/`; a replaced file swaps `content` then `.pmeta` with one
 * rename() each and readers pair the two (paired-read.ts); a deleted resource leaves
 * with one rename() into `tmp/`. If-Match is checked before the body is read and
 * again just before the commit; without a lock shared by all machines a write can
 * still slip between that check and the rename (the api's cell lock covers imports
 * and exports, which is what matters).
 */
import { mkdir, readdir, readFile, rename } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { ResourceMeta } from "@cellport/shared";
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
} from "./errors.ts";
import { type FsContext, resolveGeneration } from "./fs-context.ts";
import { CONTENT_FILE, cellTmpDir, META_FILE, webdavDir } from "./fs-layout.ts";
import {
  isAlreadyExists,
  isNotFound,
  mapLimit,
  removeQuietly,
  removeTree,
  setMtime,
  streamToFile,
  tempName,
  writeFileAtomic,
} from "./fs-util.ts";
import { readPaired, sameVersion } from "./paired-read.ts";
import { parseTreePath, resolveInside } from "./path-rules.ts";
import type { ResourceStat, WriteOptions, WriteResult } from "./port.ts";
import {
  etagOf,
  ifMatchPasses,
  isCollectionType,
  newCollectionMeta,
  nextFileMeta,
  parseMeta,
  serializeMeta,
} from "./resource-meta.ts";

interface Location {
  cell: string;
  /** Normalised path, no trailing slash. */
  path: string;
  segments: string[];
  /** The resource directory (absolute). */
  dir: string;
  /** The cell's tmp directory: same file system as the tree, outside it. */
  tmp: string;
}

async function locate(ctx: FsContext, cell: string, treePath: string): Promise<Location> {
  const segments = parseTreePath(treePath);
  const generation = await resolveGeneration(ctx, cell);
  return {
    cell,
    path: segments.join("/"),
    segments,
    dir: resolveInside(webdavDir(generation), segments),
    tmp: cellTmpDir(ctx.dataDir, cell),
  };
}

function parentOf(location: Location): Location {
  const segments = location.segments.slice(0, -1);
  return { ...location, segments, path: segments.join("/"), dir: path.dirname(location.dir) };
}

export async function readMetaAt(dir: string): Promise<ResourceMeta | null> {
  try {
    return parseMeta(await readFile(path.join(dir, META_FILE), "utf8"));
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

function toStat(resourcePath: string, meta: ResourceMeta, size: number): ResourceStat {
  return { path: resourcePath, meta, size, etag: etagOf(meta), isCollection: isCollectionType(meta.t) };
}

/** When `content` and `.pmeta` disagree for good, the content wins: describe what is really served. */
function metaFromContent(meta: ResourceMeta, size: number, mtimeMs: number): ResourceMeta {
  return { ...meta, cl: size, u: Math.round(mtimeMs) };
}

async function statAt(dir: string, resourcePath: string): Promise<ResourceStat | null> {
  const meta = await readMetaAt(dir);
  if (!meta) return null;
  if (isCollectionType(meta.t)) return toStat(resourcePath, meta, 0);
  const read = await readPaired(
    path.join(dir, CONTENT_FILE),
    () => readMetaAt(dir),
    (m, stats) => sameVersion(stats, m.cl, m.u),
    false,
  );
  if (!read?.meta) return null;
  const served = read.consistent
    ? read.meta
    : metaFromContent(read.meta, read.stats.size, read.stats.mtimeMs);
  return toStat(resourcePath, served, read.stats.size);
}

export async function stat(ctx: FsContext, cell: string, treePath: string): Promise<ResourceStat | null> {
  const location = await locate(ctx, cell, treePath);
  return statAt(location.dir, location.path);
}

export async function list(ctx: FsContext, cell: string, treePath: string): Promise<ResourceStat[]> {
  const location = await locate(ctx, cell, treePath);
  const self = await statAt(location.dir, location.path);
  if (!self) throw new NotFoundError(`Resource not found: ${location.path}`);
  if (!self.isCollection) return [];
  const entries = await readdir(location.dir, { withFileTypes: true });
  const children = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const stats = await mapLimit(children, 16, (name) =>
    statAt(path.join(location.dir, name), `${location.path}/${name}`),
  );
  // A directory without `.pmeta` is not a resource (e.g. removed under our feet).
  return stats.filter((s): s is ResourceStat => s !== null);
}

async function requireCollectionParent(location: Location): Promise<void> {
  if (location.segments.length === 1) return; // a box: its parent is the cell itself
  const parent = await readMetaAt(parentOf(location).dir);
  if (!parent) throw new ConflictError(`Parent collection does not exist: ${parentOf(location).path}`);
  if (!isCollectionType(parent.t))
    throw new ConflictError(`Parent is not a collection: ${parentOf(location).path}`);
}

export async function mkcol(ctx: FsContext, cell: string, treePath: string): Promise<ResourceStat> {
  const location = await locate(ctx, cell, treePath);
  if (await readMetaAt(location.dir))
    throw new AlreadyExistsError(`Resource already exists: ${location.path}`);
  await requireCollectionParent(location);
  // A top-level collection is a box's root (the api only exposes the main box `__`).
  const meta = newCollectionMeta(location.segments.length === 1 ? "col.box" : "col.webdav", ctx.now());
  const staging = path.join(location.tmp, tempName("mkcol"));
  try {
    await mkdir(staging);
    await writeFileAtomic(path.join(staging, META_FILE), serializeMeta(meta), location.tmp, ctx.durable);
    await rename(staging, location.dir);
  } catch (error) {
    await removeQuietly(staging);
    if (isAlreadyExists(error)) throw new AlreadyExistsError(`Resource already exists: ${location.path}`);
    if (isNotFound(error))
      throw new ConflictError(`Parent collection does not exist: ${parentOf(location).path}`);
    throw error;
  }
  return toStat(location.path, meta, 0);
}

function checkIfMatch(ifMatch: string | undefined, current: ResourceStat | null, what: string): void {
  if (!ifMatchPasses(ifMatch, current ? current.etag : null)) {
    throw new PreconditionFailedError(`ETag does not match for ${what}: If-Match ${ifMatch}`);
  }
}

export async function putFile(
  ctx: FsContext,
  cell: string,
  treePath: string,
  body: Readable,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const location = await locate(ctx, cell, treePath);
  if (location.segments.length < 2) throw new ConflictError(`A box root cannot be a file: ${location.path}`);
  await requireCollectionParent(location);
  const before = await statAt(location.dir, location.path);
  if (before?.isCollection) throw new ConflictError(`A collection exists at ${location.path}`);
  checkIfMatch(options.ifMatch, before, location.path);

  const upload = path.join(location.tmp, tempName("put"));
  const written = await streamToFile(body, upload, { maxBytes: options.maxBytes, durable: ctx.durable });
  try {
    // A few rounds: a concurrent create or delete of the same path can overtake us once.
    for (let round = 0; round < 3; round++) {
      const current = await statAt(location.dir, location.path);
      if (current?.isCollection) throw new ConflictError(`A collection exists at ${location.path}`);
      checkIfMatch(options.ifMatch, current, location.path);
      const meta = nextFileMeta(current?.meta ?? null, written.size, options.contentType, ctx.now());
      await setMtime(upload, meta.u);
      const committed = current
        ? await replaceFile(ctx, location, upload, meta)
        : await createFile(ctx, location, upload, meta);
      if (committed) return { created: current === null, etag: etagOf(meta) };
    }
    throw new ConflictError(`Concurrent writes kept changing ${location.path}`);
  } finally {
    await removeQuietly(upload);
  }
}

/** A new file resource: build its directory in tmp, rename it into place. False if one appeared meanwhile. */
async function createFile(
  ctx: FsContext,
  location: Location,
  upload: string,
  meta: ResourceMeta,
): Promise<boolean> {
  const staging = path.join(location.tmp, tempName("newfile"));
  try {
    await mkdir(staging);
    await writeFileAtomic(path.join(staging, META_FILE), serializeMeta(meta), location.tmp, ctx.durable);
    await rename(upload, path.join(staging, CONTENT_FILE));
    await rename(staging, location.dir);
    return true;
  } catch (error) {
    if (isAlreadyExists(error)) {
      await rename(path.join(staging, CONTENT_FILE), upload).catch(() => undefined);
      return false;
    }
    if (isNotFound(error))
      throw new ConflictError(`Parent collection does not exist: ${parentOf(location).path}`);
    throw error;
  } finally {
    await removeQuietly(staging);
  }
}

/** Replace in place: content first, then `.pmeta` (the order paired-read.ts relies on). False if the resource vanished. */
async function replaceFile(
  ctx: FsContext,
  location: Location,
  upload: string,
  meta: ResourceMeta,
): Promise<boolean> {
  try {
    await rename(upload, path.join(location.dir, CONTENT_FILE));
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  await writeFileAtomic(path.join(location.dir, META_FILE), serializeMeta(meta), location.tmp, ctx.durable);
  return true;
}

export async function openFile(
  ctx: FsContext,
  cell: string,
  treePath: string,
  range?: { start: number; end: number },
): Promise<{ stat: ResourceStat; stream: Readable }> {
  const location = await locate(ctx, cell, treePath);
  const meta = await readMetaAt(location.dir);
  if (!meta) throw new NotFoundError(`Resource not found: ${location.path}`);
  if (isCollectionType(meta.t)) throw new ConflictError(`A collection has no content: ${location.path}`);
  const read = await readPaired(
    path.join(location.dir, CONTENT_FILE),
    () => readMetaAt(location.dir),
    (m, stats) => sameVersion(stats, m.cl, m.u),
    true,
  );
  if (!read?.meta || !read.handle) {
    await read?.handle?.close();
    throw new NotFoundError(`Resource not found: ${location.path}`);
  }
  const size = read.stats.size;
  const served = read.consistent ? read.meta : metaFromContent(read.meta, size, read.stats.mtimeMs);
  let bounds: { start: number; end: number } | undefined;
  if (range) {
    if (!(range.start >= 0 && range.start <= range.end && range.start < size)) {
      await read.handle.close();
      throw new RangeNotSatisfiableError(`Range ${range.start}-${range.end} is outside 0-${size - 1}`, size);
    }
    bounds = { start: range.start, end: Math.min(range.end, size - 1) };
  }
  // The stream reads the very file the metadata was paired with, even if it is replaced now.
  const stream = read.handle.createReadStream(bounds ? { ...bounds, autoClose: true } : { autoClose: true });
  return { stat: toStat(location.path, served, size), stream };
}

export async function deleteResource(
  ctx: FsContext,
  cell: string,
  treePath: string,
  options: { ifMatch?: string } = {},
): Promise<void> {
  const location = await locate(ctx, cell, treePath);
  if (location.segments.length < 2)
    throw new ConflictError(`A box cannot be deleted through its files: ${location.path}`);
  const current = await statAt(location.dir, location.path);
  if (!current) throw new NotFoundError(`Resource not found: ${location.path}`);
  checkIfMatch(options.ifMatch, current, location.path);
  if (current.isCollection) {
    const entries = await readdir(location.dir, { withFileTypes: true });
    if (entries.some((e) => e.isDirectory()))
      throw new ConflictError(`Collection is not empty: ${location.path}`);
  }
  const doomed = path.join(location.tmp, tempName("delete"));
  try {
    await rename(location.dir, doomed);
  } catch (error) {
    if (isNotFound(error)) throw new NotFoundError(`Resource not found: ${location.path}`);
    throw error;
  }
  await removeTree(doomed);
}
