/**
 * Import staging. A new generation directory is filled next to the live one and
 * `commit()` swaps it in with one rename() of a fresh `current` symlink over the old
 * one, then removes the old generation. A crash before the rename leaves the old
 * content; after it, the new. Leftover generations (crashed imports, or an old
 * generation whose removal was interrupted) are swept once they are older than
 * `staleGenerationMs`; an open replacement touches its directory every minute, on a
 * timer (however long one write or the final fsync takes), to stay young.
 */
import {
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import {
  ENTITY_TYPES,
  type EntityDocument,
  type EntityType,
  EXCLUDED_TREE_NAMES,
  MAIN_BOX_DIR,
} from "@cellport/shared";
import { parseCellDocument } from "./cell-document.ts";
import { CellNotFoundError, ConflictError, InvalidPathError, StoreError, TooLargeError } from "./errors.ts";
import { type FsContext, resolveGeneration } from "./fs-context.ts";
import { pjsonFileOf, writeEntityLines } from "./fs-entities.ts";
import {
  CELL_DOCUMENT_FILE,
  CONTENT_FILE,
  CURRENT_LINK,
  cellDir,
  cellTmpDir,
  GENERATION_PREFIX,
  META_FILE,
  newGenerationName,
  odataDir,
  webdavDir,
} from "./fs-layout.ts";
import {
  isAlreadyExists,
  isNotFound,
  removeQuietly,
  removeTree,
  setMtime,
  streamToFile,
  syncDirectory,
  tempName,
  writeFileAtomic,
} from "./fs-util.ts";
import { parseTreeFilePath, resolveInside } from "./path-rules.ts";
import type { CellReplacement } from "./port.ts";
import { isCollectionType, newCollectionMeta, newNodeId, parseMeta, serializeMeta } from "./resource-meta.ts";

const LINK_TEMP_PREFIX = "current-";
/** `.pmeta` files are a few hundred bytes; anything this large is not one. */
const MAX_META_BYTES = 1024 * 1024;
/** A generation untouched for many of these belongs to no live import (see `staleGenerationMs`). */
export const TOUCH_INTERVAL_MS = 60 * 1000;
/** A temp symlink lives for one rename(); one older than this was left by a crash. */
const STALE_LINK_MS = 60 * 1000;

/** Removes unreferenced generations and temp links left by crashed imports. Returns how many. */
export async function sweepStaleGenerations(
  ctx: FsContext,
  cell: string,
  /** The cell directory's names, when the caller has listed it already. */
  listed?: string[],
): Promise<number> {
  const dir = cellDir(ctx.dataDir, cell);
  const names =
    listed ??
    (await readdir(dir).catch((error: unknown) => {
      if (isNotFound(error)) return [] as string[];
      throw error;
    }));
  const generations = names.filter((name) => name.startsWith(GENERATION_PREFIX)).length;
  // The common case, swept before and after every job: a single generation and no
  // temp link. Nothing is stale then, so there is no need to read the link either: a
  // lone generation is the live one (were `current` dangling, that generation would
  // be the cell's only content — not a leftover to remove).
  if (generations <= 1 && !names.some((name) => name.startsWith(LINK_TEMP_PREFIX))) return 0;
  const live = await readlink(path.join(dir, CURRENT_LINK)).catch(() => null);
  if (live === null) return 0;
  const now = ctx.now();
  let removed = 0;
  for (const name of names) {
    const isGeneration = name.startsWith(GENERATION_PREFIX) && name !== path.basename(live);
    const isTempLink = name.startsWith(LINK_TEMP_PREFIX);
    if (!isGeneration && !isTempLink) continue;
    const info = await lstat(path.join(dir, name)).catch(() => null);
    const maxAge = isGeneration ? ctx.staleGenerationMs : STALE_LINK_MS;
    if (info && now - info.mtimeMs > maxAge) {
      await removeQuietly(path.join(dir, name));
      removed++;
    }
  }
  return removed;
}

async function readBounded(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    total += buffer.length;
    if (total > limit) {
      body.destroy();
      throw new TooLargeError(`Expected a ${META_FILE} of at most ${limit} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Once a file resource has both `.pmeta` and `content`, make them a matching pair
 * as putFile would have written it: `cl` equal to the real size and the content's
 * mtime equal to `u` (paired-read.ts relies on both). Idempotent, and both files
 * only ever appear whole (renamed in), so concurrent writers of one resource's two
 * files converge on the same result.
 */
async function reconcileFileResource(resourceDir: string, tmpDir: string): Promise<void> {
  const metaPath = path.join(resourceDir, META_FILE);
  const contentPath = path.join(resourceDir, CONTENT_FILE);
  const [metaText, contentInfo] = await Promise.all([
    readFile(metaPath, "utf8").catch(() => null),
    stat(contentPath).catch(() => null),
  ]);
  if (metaText === null || contentInfo === null) return;
  const meta = parseMeta(metaText);
  if (isCollectionType(meta.t)) return;
  if (meta.cl !== contentInfo.size) {
    await writeFileAtomic(metaPath, serializeMeta({ ...meta, cl: contentInfo.size }), tmpDir, false);
  }
  await setMtime(contentPath, meta.u);
}

async function assertAbsent(target: string, relativePath: string): Promise<void> {
  const existing = await lstat(target).catch(() => null);
  if (existing) throw new ConflictError(`Written twice: ${relativePath}`);
}

export async function beginReplace(ctx: FsContext, cell: string): Promise<CellReplacement> {
  await resolveGeneration(ctx, cell);
  await sweepStaleGenerations(ctx, cell);
  const dir = cellDir(ctx.dataDir, cell);
  const name = newGenerationName();
  const staging = path.join(dir, name);
  const odata = odataDir(staging);
  const webdav = webdavDir(staging);
  const tmpDir = cellTmpDir(ctx.dataDir, cell);
  await mkdir(staging);
  await mkdir(odata);
  await mkdir(webdav);

  let state: "open" | "committed" | "aborted" = "open";
  // Until commit or abort: a process that dies stops touching, and its staging goes stale.
  const keepYoung = setInterval(() => {
    const now = new Date(ctx.now());
    utimes(staging, now, now).catch(() => undefined);
  }, TOUCH_INTERVAL_MS);
  keepYoung.unref();

  function assertOpen(): void {
    if (state !== "open") throw new ConflictError(`This replacement of ${cell} is already ${state}`);
  }

  async function fillGaps(): Promise<void> {
    const cellDocument = await readFile(path.join(odata, CELL_DOCUMENT_FILE), "utf8").catch(() => null);
    if (cellDocument === null) throw new StoreError(`The replacement of ${cell} has no cell document`);
    const now = ctx.now();
    // `wx`: only where the import did not write the file.
    const createIfMissing = (file: string, data: string) =>
      writeFile(file, data, { flag: "wx" }).catch((error: unknown) => {
        if (!isAlreadyExists(error)) throw error;
      });
    await Promise.all(ENTITY_TYPES.map((t) => createIfMissing(path.join(odata, t.file), "")));
    // Personium: the cell's node id and its main box id are the cell id.
    const cellId = parseCellDocument(cell, cellDocument).id || newNodeId();
    await createIfMissing(
      path.join(webdav, META_FILE),
      serializeMeta(newCollectionMeta("Cell", now, cellId)),
    );
    await mkdir(path.join(webdav, MAIN_BOX_DIR), { recursive: true });
    await createIfMissing(
      path.join(webdav, MAIN_BOX_DIR, META_FILE),
      serializeMeta(newCollectionMeta("col.box", now, cellId)),
    );
  }

  return {
    async writeCellDocument(raw: Record<string, unknown>): Promise<void> {
      assertOpen();
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new TypeError("Expected the cell document to be a JSON object");
      }
      await writeFile(path.join(odata, CELL_DOCUMENT_FILE), JSON.stringify(raw));
    },

    async writeEntities(
      type: EntityType,
      lines: AsyncIterable<EntityDocument> | Iterable<EntityDocument>,
    ): Promise<void> {
      assertOpen();
      await writeEntityLines(path.join(odata, pjsonFileOf(type)), "a", type, lines);
    },

    async writeTreeFile(relativePath: string, body: Readable): Promise<void> {
      assertOpen();
      let parsed: { resource: string[]; file: string };
      try {
        parsed = parseTreeFilePath(relativePath);
      } catch (error) {
        // The target keeps its own keys and auth history: never take them from a snapshot.
        const first = relativePath.split("/")[0] ?? "";
        if (error instanceof InvalidPathError && EXCLUDED_TREE_NAMES.has(first)) {
          body.resume();
          return;
        }
        throw error;
      }
      const resourceDir = resolveInside(webdav, parsed.resource);
      await mkdir(resourceDir, { recursive: true });
      const target = path.join(resourceDir, parsed.file);
      await assertAbsent(target, relativePath);
      // Written beside the tree and renamed in: other writers of this staging never see half a file.
      if (parsed.file === META_FILE) {
        // Normalised on the way in (stable key order, `et: "NONE"`), so exports copy it unchanged.
        const meta = parseMeta((await readBounded(body, MAX_META_BYTES)).toString("utf8"));
        await writeFileAtomic(target, serializeMeta(meta), tmpDir, false);
      } else {
        const temp = path.join(tmpDir, tempName("import"));
        try {
          await streamToFile(body, temp, { durable: false });
          await rename(temp, target);
        } finally {
          await removeQuietly(temp);
        }
      }
      await reconcileFileResource(resourceDir, tmpDir);
    },

    async commit(): Promise<void> {
      assertOpen();
      await resolveGeneration(ctx, cell);
      await fillGaps();
      if (ctx.durable) await syncTree(staging);
      const link = path.join(dir, tempName(LINK_TEMP_PREFIX.slice(0, -1)));
      let previous: string;
      try {
        previous = await readlink(path.join(dir, CURRENT_LINK));
        await symlink(name, link);
        await rename(link, path.join(dir, CURRENT_LINK));
      } catch (error) {
        await removeQuietly(link);
        if (isNotFound(error)) throw new CellNotFoundError(`Cell not found: ${cell}`);
        throw error;
      }
      state = "committed";
      clearInterval(keepYoung);
      // The import is reported done once this returns: the swap must outlive a power
      // loss. Past the rename, a failed sync cannot undo it; it fails the commit all the same.
      if (ctx.durable) await syncDirectory(dir);
      // The swap is done; a failed cleanup only leaves garbage for sweepStaleGenerations.
      if (path.basename(previous) !== name) {
        await removeTree(path.resolve(dir, previous)).catch(() => undefined);
      }
    },

    async abort(): Promise<void> {
      if (state !== "open") return;
      state = "aborted";
      clearInterval(keepYoung);
      await removeTree(staging);
    },
  };
}

/**
 * fsync every file and directory of the staged tree before it goes live. The staged
 * files are written without it (one fsync per file while writing would be slower);
 * the swap is the commit point, so this is the moment durability matters.
 */
async function syncTree(root: string): Promise<void> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  for (const entry of entries) {
    const entryPath = path.join(entry.parentPath, entry.name);
    if (entry.isDirectory()) {
      await syncDirectory(entryPath);
      continue;
    }
    if (!entry.isFile()) continue;
    const handle = await open(entryPath, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await syncDirectory(root);
}
