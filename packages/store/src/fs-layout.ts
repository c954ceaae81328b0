/**
 * The on-disk layout of the file-system store. One place for every name, so the
 * layout can be read top to bottom here:
 *
 * ```
 * {dataDir}/
 *   cells/{cell}/
 *     current -> gen-<uuid>        relative symlink; swapped with one rename() by an import
 *     gen-<uuid>/                  one generation of the cell's content, laid out as the
 *       10_odata/00_cell.json      snapshot's 10_odata/ and 20_webdav/ (spec §7), so an
 *       10_odata/10_box.pjson …    export is a straight walk
 *       20_webdav/.pmeta           the cell's own metadata (t: "Cell")
 *       20_webdav/__/.pmeta        main box (t: "col.box"); other boxes by box id
 *       20_webdav/__/docs/.pmeta   a collection: a directory with .pmeta
 *       20_webdav/__/docs/a.txt/.pmeta + content   a file: a directory with .pmeta and content
 *     snapshots/                   outside the generation: an import never swaps it away
 *       {file}                     committed snapshot files (zip, error, anything PUT)
 *       .meta/{file}               sidecar JSON: content type, version, times, size, sha256
 *       .tmp/                      in-progress writes; listings never show it
 *     tmp/                         box-file writes in flight, resources on their way out
 *     .pkeys/ .pauthhistory/       cell keys and auth history: outside the generation, so
 *                                  an import keeps the target cell's identity; never exported
 *   .staging/                      cells being created (renamed into cells/ when complete)
 *   .trash/                        cells being deleted (renamed here first, then removed)
 * ```
 *
 * The tree matches Personium's DavCmpFsImpl / DavMetadataFile (personium-core,
 * `io.personium.core.model.impl.fs`): every resource is a directory holding a
 * `.pmeta` JSON file (keys i, t, a, d, p, u, ct, cl, et, v, cs), and a file resource
 * also holds its bytes in `content`; children are subdirectories. Personium names
 * the main box directory by the cell id and renames it to `__` when exporting
 * (SnapshotFileExportVisitor); we store it as `__` directly.
 */
import path from "node:path";

export const CELLS_DIR = "cells";
export const CREATE_STAGING_DIR = ".staging";
export const TRASH_DIR = ".trash";

export const CURRENT_LINK = "current";
export const GENERATION_PREFIX = "gen-";
export const SNAPSHOTS_DIR = "snapshots";
export const CELL_TMP_DIR = "tmp";

export const ODATA_DIR_NAME = "10_odata";
export const CELL_DOCUMENT_FILE = "00_cell.json";
export const WEBDAV_DIR_NAME = "20_webdav";

/** Personium's DavMetadataFile.DAV_META_FILE_NAME. */
export const META_FILE = ".pmeta";
/** Personium's DavCmpFsImpl.CONTENT_FILE_NAME. */
export const CONTENT_FILE = "content";

export const SNAPSHOT_META_DIR = ".meta";
export const SNAPSHOT_TMP_DIR = ".tmp";

export function cellsRoot(dataDir: string): string {
  return path.join(dataDir, CELLS_DIR);
}

export function cellDir(dataDir: string, cell: string): string {
  return path.join(dataDir, CELLS_DIR, cell);
}

/** The cell's live content, through the `current` symlink. */
export function currentDir(dataDir: string, cell: string): string {
  return path.join(cellDir(dataDir, cell), CURRENT_LINK);
}

export function odataDir(generationDir: string): string {
  return path.join(generationDir, ODATA_DIR_NAME);
}

export function webdavDir(generationDir: string): string {
  return path.join(generationDir, WEBDAV_DIR_NAME);
}

export function cellTmpDir(dataDir: string, cell: string): string {
  return path.join(cellDir(dataDir, cell), CELL_TMP_DIR);
}

export function snapshotsDir(dataDir: string, cell: string): string {
  return path.join(cellDir(dataDir, cell), SNAPSHOTS_DIR);
}

export function newGenerationName(): string {
  return `${GENERATION_PREFIX}${globalThis.crypto.randomUUID()}`;
}
