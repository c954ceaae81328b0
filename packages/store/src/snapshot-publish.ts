/**
 * The snapshot area's two writes — publishing a finished temp file under its name,
 * and removing a file — as blocking sequences run by the store thread
 * (store-thread-body.ts), never on an event loop. Each is one message from the
 * store instead of a dozen thread-pool round trips (stats, sidecar read and write,
 * utimes, renames, fsyncs): for a tiny export that was a large share of its CPU.
 *
 * Publishing: the temp file's mtime is stamped with the new sidecar's `updated`,
 * then one rename publishes it (the commit point), then the sidecar follows with its
 * own rename; readers pair the two (paired-read.ts). A `.zip` makes a stale `.error`
 * of the same base go away. When the store is durable, the file and the directory
 * holding its name are fsynced before the answer: once it arrives, clients are told
 * the file exists. The sidecar and its directory are too, unless the file alone
 * describes it (a first version; describedByFile says what a power loss would cost).
 */
import {
  closeSync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { AlreadyExistsError, CellNotFoundError, ConflictError, NotFoundError } from "./errors.ts";
import {
  isNotFound,
  removeQuietlySync,
  syncDirectorySync,
  tempName,
  writeFileAtomicSync,
} from "./fs-util.ts";
import { readPairedSync } from "./paired-read.ts";
import {
  baseName,
  checkIfMatch,
  describedByFile,
  describeFile,
  ERROR_SUFFIX,
  nextSidecar,
  parseSidecar,
  type Sidecar,
  sidecarMatches,
  ZIP_SUFFIX,
} from "./snapshot-sidecar.ts";
import type { PublishRequest, RemoveRequest, SnapshotAreaPaths } from "./store-thread-protocol.ts";

export function publishSnapshot(request: PublishRequest): { created: boolean; sidecar: Sidecar } {
  const { area, name, temp } = request;
  if (request.data) writeAndSync(temp, request.data);
  if (request.expectSize !== undefined) checkTempSize(temp, request.expectSize, name);
  const current = currentSidecar(area, name);
  if (request.createOnly && current) throw new AlreadyExistsError(`Snapshot file already exists: ${name}`);
  checkIfMatch(request.ifMatch, current, name);
  const sidecar = nextSidecar(name, current, request, request.now);
  const updated = new Date(sidecar.updated);
  utimesSync(temp, updated, updated);
  renameSync(temp, path.join(area.dir, name));
  // Both only after the rename. The file and its name are synced; its sidecar only when
  // losing it would lose more than a sha256 (describedByFile): an export's publish is
  // then two fsyncs instead of four.
  const syncSidecar = request.durable && !describedByFile(name, sidecar);
  writeFileAtomicSync(path.join(area.metaDir, name), JSON.stringify(sidecar), area.tmpDir, syncSidecar);
  if (name.endsWith(ZIP_SUFFIX)) removeFile(area, `${baseName(name)}${ERROR_SUFFIX}`);
  if (request.durable) syncDirectorySync(area.dir);
  if (syncSidecar) syncDirectorySync(area.metaDir);
  return { created: current === null, sidecar };
}

/** Removes `name` (NotFoundError when there is none; If-Match checked against it). */
export function removeSnapshot(request: RemoveRequest): void {
  const { area, name } = request;
  try {
    statSync(area.tmpDir);
  } catch (error) {
    if (isNotFound(error)) throw new CellNotFoundError(`Cell not found: ${request.cell}`);
    throw error;
  }
  const current = currentSidecar(area, name);
  if (!current) throw new NotFoundError(`Snapshot file not found: ${name}`);
  checkIfMatch(request.ifMatch, current, name);
  if (!removeFile(area, name)) throw new NotFoundError(`Snapshot file not found: ${name}`);
}

/** The published file's sidecar (described from the file when they do not match), null when none. */
function currentSidecar(area: SnapshotAreaPaths, name: string): Sidecar | null {
  const read = readPairedSync(
    path.join(area.dir, name),
    () => readSidecar(path.join(area.metaDir, name)),
    sidecarMatches,
  );
  if (!read?.stats.isFile()) return null;
  return describeFile(name, read.meta, read.stats);
}

function readSidecar(file: string): Sidecar | null {
  try {
    return parseSidecar(readFileSync(file, "utf8"));
  } catch (error) {
    // A missing sidecar: the file is described from itself.
    if (isNotFound(error)) return null;
    throw error;
  }
}

function checkTempSize(temp: string, size: number, name: string): void {
  let found: number;
  try {
    found = statSync(temp).size;
  } catch (error) {
    if (isNotFound(error)) throw new NotFoundError(`Temp file of ${name} is gone: ${temp}`);
    throw error;
  }
  if (found !== size) {
    throw new ConflictError(`Expected ${size} bytes in the temp file of ${name}, found ${found}`);
  }
}

/** Unpublishes with one rename (the file is gone for readers at once), then tidies up. */
function removeFile(area: SnapshotAreaPaths, name: string): boolean {
  const file = path.join(area.dir, name);
  // Looked for first: a publish nearly always finds no `.error` to remove, and a
  // failed rename's exception costs more than the lstat.
  if (!lstatSync(file, { throwIfNoEntry: false })) return false;
  const doomed = path.join(area.tmpDir, tempName("delete"));
  try {
    renameSync(file, doomed);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  removeQuietlySync(path.join(area.metaDir, name));
  removeQuietlySync(doomed);
  return true;
}

/** The whole content into `file`, on disk (not only in the page cache) before it returns. */
function writeAndSync(file: string, data: Uint8Array): void {
  const fd = openSync(file, "w");
  try {
    for (let written = 0; written < data.length; ) {
      written += writeSync(fd, data, written, data.length - written);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
