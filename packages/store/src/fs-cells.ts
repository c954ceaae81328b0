/**
 * Cell lifecycle. A cell appears and disappears with one rename(): it is built
 * complete in `.staging/` and renamed into `cells/` (rename onto an existing,
 * non-empty directory fails, so exactly one of N concurrent creates wins), and it is
 * renamed into `.trash/` before being removed (so no reader sees half a cell).
 */
import { access, mkdir, readdir, readFile, rename, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { ENTITY_TYPES, isValidCellName, MAIN_BOX_DIR } from "@cellport/shared";
import { newCellDocument, parseCellDocument } from "./cell-document.ts";
import { CellExistsError, CellNotFoundError } from "./errors.ts";
import type { FsContext } from "./fs-context.ts";
import {
  CELL_DOCUMENT_FILE,
  CELL_TMP_DIR,
  CREATE_STAGING_DIR,
  CURRENT_LINK,
  cellDir,
  cellsRoot,
  currentDir,
  META_FILE,
  newGenerationName,
  ODATA_DIR_NAME,
  odataDir,
  SNAPSHOT_META_DIR,
  SNAPSHOT_TMP_DIR,
  SNAPSHOTS_DIR,
  TRASH_DIR,
  webdavDir,
} from "./fs-layout.ts";
import { isAlreadyExists, isNotFound, removeQuietly, removeTree, tempName } from "./fs-util.ts";
import { assertCellName } from "./path-rules.ts";
import type { CellDocument } from "./port.ts";
import { newCollectionMeta, serializeMeta } from "./resource-meta.ts";

/** A `.staging/` entry older than this was left by a crashed createCell. */
const STALE_STAGING_MS = 60 * 60 * 1000;

/**
 * Writes an empty generation: the cell document, every pjson file (empty), the
 * cell's root `.pmeta` and the main box. Used by createCell and to fill the gaps of
 * an import that did not carry them.
 */
export async function writeEmptyGeneration(generation: string, name: string, now: number): Promise<string> {
  const raw = newCellDocument(name, now);
  const cellId = String(raw._id);
  const odata = odataDir(generation);
  const mainBox = path.join(webdavDir(generation), MAIN_BOX_DIR);
  await mkdir(odata, { recursive: true });
  await mkdir(mainBox, { recursive: true });
  await writeFile(path.join(odata, CELL_DOCUMENT_FILE), JSON.stringify(raw));
  await Promise.all(ENTITY_TYPES.map((t) => writeFile(path.join(odata, t.file), "")));
  await writeFile(
    path.join(webdavDir(generation), META_FILE),
    serializeMeta(newCollectionMeta("Cell", now, cellId)),
  );
  // Personium's main box id is the cell id (SnapshotFileExportVisitor#replaceMainboxIdToUnderscore).
  await writeFile(path.join(mainBox, META_FILE), serializeMeta(newCollectionMeta("col.box", now, cellId)));
  return cellId;
}

export async function createCell(ctx: FsContext, name: string): Promise<CellDocument> {
  assertCellName(name);
  const stagingRoot = path.join(ctx.dataDir, CREATE_STAGING_DIR);
  await mkdir(stagingRoot, { recursive: true });
  await mkdir(cellsRoot(ctx.dataDir), { recursive: true });
  await sweepOld(stagingRoot, STALE_STAGING_MS, ctx.now());

  const target = cellDir(ctx.dataDir, name);
  if (await exists(target)) throw new CellExistsError(`Cell already exists: ${name}`);

  const staging = path.join(stagingRoot, tempName(name));
  try {
    const generation = newGenerationName();
    const now = ctx.now();
    await mkdir(staging);
    await writeEmptyGeneration(path.join(staging, generation), name, now);
    await mkdir(path.join(staging, SNAPSHOTS_DIR, SNAPSHOT_META_DIR), { recursive: true });
    await mkdir(path.join(staging, SNAPSHOTS_DIR, SNAPSHOT_TMP_DIR));
    await mkdir(path.join(staging, CELL_TMP_DIR));
    // Relative target: the data dir may be mounted at different paths on different machines.
    await symlink(generation, path.join(staging, CURRENT_LINK));
    await rename(staging, target);
  } catch (error) {
    await removeQuietly(staging);
    if (isAlreadyExists(error)) throw new CellExistsError(`Cell already exists: ${name}`);
    throw error;
  }
  const created = await getCell(ctx, name);
  if (!created) throw new CellNotFoundError(`Cell vanished right after creation: ${name}`);
  return created;
}

export async function deleteCell(ctx: FsContext, name: string): Promise<void> {
  assertCellName(name);
  const trashRoot = path.join(ctx.dataDir, TRASH_DIR);
  await mkdir(trashRoot, { recursive: true });
  const trashed = path.join(trashRoot, tempName(name));
  try {
    await rename(cellDir(ctx.dataDir, name), trashed);
  } catch (error) {
    if (isNotFound(error)) throw new CellNotFoundError(`Cell not found: ${name}`);
    throw error;
  }
  await removeTree(trashed);
  // Leftovers of deleters that crashed between the rename and the removal.
  await sweepOld(trashRoot, STALE_STAGING_MS, ctx.now());
}

export async function getCell(ctx: FsContext, name: string): Promise<CellDocument | null> {
  assertCellName(name);
  try {
    const text = await readFile(
      path.join(currentDir(ctx.dataDir, name), ODATA_DIR_NAME, CELL_DOCUMENT_FILE),
      "utf8",
    );
    return parseCellDocument(name, text);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** One `access()` instead of open/stat/read/close: resolving the cell is on every request's path. */
export async function hasCell(ctx: FsContext, name: string): Promise<boolean> {
  assertCellName(name);
  try {
    await access(path.join(currentDir(ctx.dataDir, name), ODATA_DIR_NAME, CELL_DOCUMENT_FILE));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export async function listCells(ctx: FsContext): Promise<string[]> {
  try {
    const entries = await readdir(cellsRoot(ctx.dataDir), { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && isValidCellName(e.name))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

async function exists(target: string): Promise<boolean> {
  try {
    await stat(target);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Removes entries of `dir` whose mtime is older than `maxAgeMs` (leftovers of crashed processes). */
export async function sweepOld(dir: string, maxAgeMs: number, now: number): Promise<number> {
  return removeOld(dir, await readdir(dir).catch(() => [] as string[]), maxAgeMs, now);
}

/** sweepOld for names already listed: one stat per name, none for an empty directory. */
export async function removeOld(
  dir: string,
  names: readonly string[],
  maxAgeMs: number,
  now: number,
): Promise<number> {
  let removed = 0;
  for (const name of names) {
    const entry = path.join(dir, name);
    const info = await stat(entry).catch(() => null);
    if (info && now - info.mtimeMs > maxAgeMs) {
      await removeQuietly(entry);
      removed++;
    }
  }
  return removed;
}
