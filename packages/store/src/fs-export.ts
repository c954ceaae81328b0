/**
 * The export source: a straight walk of one generation, already in the snapshot's
 * layout (spec §7), minus the manifest (the worker writes it). The listing runs in a
 * helper thread (store-thread.ts), which also brings back the content of the small
 * files, within a budget: for a cell of small files the export then needs no file
 * system call of its own. Sizes are known up front so the worker can weight progress
 * by bytes; the other files open lazily so a zip writer holds one open at a time.
 */
import { createReadStream } from "node:fs";
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
import { readWholeFile } from "./fs-util.ts";
import type { ExportEntry } from "./port.ts";
import { storeThread } from "./store-thread.ts";
import type { PrefetchLimits, WalkedFile } from "./store-thread-protocol.ts";

/**
 * Content the listing brings back: files up to 64 KiB (what the worker reads whole
 * anyway), at most 1 MiB per export — all of a small cell, and a bounded buffer for a
 * big one, whose other files are read when the zip gets to them.
 */
export const PREFETCH: PrefetchLimits = { maxFileBytes: 64 * 1024, budgetBytes: 1024 * 1024 };

const EMPTY = Buffer.alloc(0);

function directoryEntry(name: string, mtime: Date): ExportEntry {
  return { name, size: 0, directory: true, mtime, open: () => Readable.from([]) };
}

/** A file at `dir`/`relative` (the path is joined only when the file is read). */
function fileEntry(name: string, dir: string, relative: string, file: WalkedFile): ExportEntry {
  const { size, data } = file;
  // Content that came with the listing serves the first read, then is let go: it is
  // held only until the zip gets to it. A later read goes to the file, checked for size.
  let prefetched = data ? Buffer.from(data) : undefined;
  const take = () => {
    const content = prefetched;
    prefetched = undefined;
    return content;
  };
  return {
    name,
    size,
    directory: false,
    mtime: new Date(file.mtimeMs),
    open: () => {
      const content = take();
      return content ? Readable.from([content]) : createReadStream(path.join(dir, relative));
    },
    read: async () => take() ?? readWholeFile(path.join(dir, relative), size),
    takeContent: take,
  };
}

function emptyFileEntry(name: string, mtime: Date): ExportEntry {
  return {
    name,
    size: 0,
    directory: false,
    mtime,
    open: () => Readable.from([]),
    read: async () => EMPTY,
    takeContent: () => EMPTY,
  };
}

function notFound(absolute: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, stat '${absolute}'`), {
    code: "ENOENT",
  });
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
  // The tree's entries are made as the listing's parts arrive, a turn of the event loop each.
  const tree: ExportEntry[] = [];
  const { stats } = await storeThread.walk(
    {
      stat: [odata, webdav, ...required.map(([, file]) => path.join(odata, file))],
      walk: { root: webdav, excludeAtRoot: [...EXCLUDED_TREE_NAMES] },
      prefetch: PREFETCH,
    },
    (entry) => {
      const name = `${WEBDAV_DIR}${entry.relative}`;
      tree.push(
        entry.directory
          ? directoryEntry(name, new Date(entry.mtimeMs))
          : fileEntry(name, webdav, entry.relative, entry),
      );
    },
  );
  const [odataInfo, webdavInfo, ...files] = stats;
  if (!odataInfo) throw notFound(odata);
  if (!webdavInfo) throw notFound(webdav);

  const odataMtime = new Date(odataInfo.mtimeMs);
  const entries: ExportEntry[] = [directoryEntry(ODATA_DIR, odataMtime)];
  // A file that must be in every snapshot; a missing one exports as empty (spec §7: "every pjson file exists").
  required.forEach(([name, file], i) => {
    const info = files[i];
    entries.push(info ? fileEntry(name, odata, file, info) : emptyFileEntry(name, odataMtime));
  });
  entries.push(directoryEntry(WEBDAV_DIR, new Date(webdavInfo.mtimeMs)));
  for (const entry of tree) entries.push(entry);
  return entries;
}
