/**
 * The export source: a straight walk of one generation, already in the snapshot's
 * layout (spec §7), minus the manifest (the worker writes it). Sizes come from
 * stat() up front so the worker can weight progress by bytes; `open()` and `read()`
 * open lazily so a zip writer holds one file open at a time.
 */
import { createReadStream, type Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import {
  CELL_DOCUMENT_ENTRY,
  ENTITY_TYPES,
  EXCLUDED_TREE_NAMES,
  ODATA_DIR,
  pjsonEntry,
  WEBDAV_DIR,
} from "@cellport/shared";
import { type FsContext, resolveGeneration } from "./fs-context.ts";
import { CELL_DOCUMENT_FILE, odataDir, webdavDir } from "./fs-layout.ts";
import { isNotFound, mapLimit, readWholeFile } from "./fs-util.ts";
import type { ExportEntry } from "./port.ts";

const STAT_CONCURRENCY = 16;

const EMPTY = Buffer.alloc(0);

function directoryEntry(name: string, mtime: Date): ExportEntry {
  return { name, size: 0, directory: true, mtime, open: () => Readable.from([]) };
}

function fileEntry(name: string, absolute: string, size: number, mtime: Date): ExportEntry {
  return {
    name,
    size,
    directory: false,
    mtime,
    open: () => createReadStream(absolute),
    read: () => readWholeFile(absolute, size),
  };
}

/** A file that must be in every snapshot; a missing one exports as empty (spec §7: "every pjson file exists"). */
async function requiredFile(name: string, absolute: string): Promise<ExportEntry | null> {
  try {
    const info = await stat(absolute);
    return fileEntry(name, absolute, info.size, info.mtime);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return null;
  }
}

function emptyFileEntry(name: string, mtime: Date): ExportEntry {
  return { name, size: 0, directory: false, mtime, open: () => Readable.from([]), read: async () => EMPTY };
}

function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Depth first, names sorted by code unit, a directory's files before its subdirectories. */
async function walk(absolute: string, prefix: string, isRoot: boolean, out: ExportEntry[]): Promise<void> {
  const dirents = (await readdir(absolute, { withFileTypes: true })).sort(byName);
  // Cell keys and auth history never leave the cell (spec §7), wherever they sit.
  const visible = isRoot ? dirents.filter((d) => !EXCLUDED_TREE_NAMES.has(d.name)) : dirents;
  const files = visible.filter((d) => d.isFile());
  const dirs = visible.filter((d) => d.isDirectory());
  const infos = await mapLimit([...files, ...dirs], STAT_CONCURRENCY, (d) =>
    stat(path.join(absolute, d.name)),
  );
  files.forEach((d, i) => {
    const info = infos[i];
    if (info) out.push(fileEntry(`${prefix}${d.name}`, path.join(absolute, d.name), info.size, info.mtime));
  });
  for (const [i, d] of dirs.entries()) {
    const info = infos[files.length + i];
    if (!info) continue;
    out.push(directoryEntry(`${prefix}${d.name}/`, info.mtime));
    await walk(path.join(absolute, d.name), `${prefix}${d.name}/`, false, out);
  }
}

export async function exportEntries(ctx: FsContext, cell: string): Promise<ExportEntry[]> {
  // Resolved once: the whole export reads one generation even if `current` moves.
  const generation = await resolveGeneration(ctx, cell);
  const odata = odataDir(generation);
  const webdav = webdavDir(generation);
  const required: Array<[string, string]> = [
    [CELL_DOCUMENT_ENTRY, CELL_DOCUMENT_FILE],
    ...ENTITY_TYPES.map((type): [string, string] => [pjsonEntry(type.file), type.file]),
  ];
  const tree: ExportEntry[] = [];
  // The two halves at once: for a small cell these stats are most of the export's
  // cost, and fs calls in flight together cost less each than one after another.
  const [odataInfo, webdavInfo, files] = await Promise.all([
    stat(odata),
    stat(webdav),
    mapLimit(required, STAT_CONCURRENCY, async ([name, file]) => ({
      name,
      entry: await requiredFile(name, path.join(odata, file)),
    })),
    walk(webdav, WEBDAV_DIR, true, tree),
  ]);
  const entries: ExportEntry[] = [directoryEntry(ODATA_DIR, odataInfo.mtime)];
  for (const { name, entry } of files) entries.push(entry ?? emptyFileEntry(name, odataInfo.mtime));
  entries.push(directoryEntry(WEBDAV_DIR, webdavInfo.mtime));
  for (const entry of tree) entries.push(entry);
  return entries;
}
