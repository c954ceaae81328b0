/**
 * The snapshot area, `cells/{cell}/snapshots/`: committed files by their own name,
 * a JSON sidecar per file in `.meta/`, and writes in flight in `.tmp/`. Every write
 * streams into `.tmp/` and is published by one rename(); the sidecar follows with a
 * second rename and is paired with the file on read (paired-read.ts), so a file
 * without a matching sidecar (crash, or copied in by hand) still lists, described
 * from the file itself.
 */
import { readdir, readFile, rename, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import {
  CellNotFoundError,
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
} from "./errors.ts";
import { removeOld } from "./fs-cells.ts";
import type { FsContext } from "./fs-context.ts";
import { cellDir, cellTmpDir, SNAPSHOT_META_DIR, SNAPSHOT_TMP_DIR, snapshotsDir } from "./fs-layout.ts";
import { sweepStaleGenerations } from "./fs-replace.ts";
import {
  createEmptyFile,
  isNotFound,
  mapLimit,
  removeQuietly,
  setMtime,
  streamToFile,
  syncDirectory,
  tempName,
  writeFileAtomic,
} from "./fs-util.ts";
import { listingThread } from "./listing-thread.ts";
import { readPaired, sameVersion } from "./paired-read.ts";
import { assertCellName, assertSnapshotFileName } from "./path-rules.ts";
import type { SnapshotArea, SnapshotStat, SnapshotWriter, WriteOptions, WriteResult } from "./port.ts";
import { etagOf, ifMatchPasses } from "./resource-meta.ts";

interface Sidecar {
  contentType: string;
  version: number;
  created: number;
  updated: number;
  size: number;
  sha256?: string;
}

const ZIP_SUFFIX = ".zip";
const ERROR_SUFFIX = ".error";

/** What a file is served as when nothing recorded its type. */
export function guessContentType(name: string): string {
  if (name.endsWith(ZIP_SUFFIX)) return "application/zip";
  if (name.endsWith(ERROR_SUFFIX) || name.endsWith(".json")) return "application/json";
  return "application/octet-stream";
}

/** `Name` (no dot, spec §1) or a file name ending in `.zip`: the base both `.zip` and `.error` share. */
function baseName(name: string): string {
  return name.endsWith(ZIP_SUFFIX) ? name.slice(0, -ZIP_SUFFIX.length) : name;
}

function toSnapshotStat(name: string, sidecar: Sidecar): SnapshotStat {
  const stat: SnapshotStat = {
    name,
    size: sidecar.size,
    contentType: sidecar.contentType,
    etag: etagOf({ v: sidecar.version, u: sidecar.updated }),
    created: new Date(sidecar.created),
    updated: new Date(sidecar.updated),
  };
  if (sidecar.sha256) stat.sha256 = sidecar.sha256;
  return stat;
}

export function createFsSnapshotArea(ctx: FsContext): SnapshotArea {
  function areaOf(cell: string): { dir: string; metaDir: string; tmpDir: string } {
    assertCellName(cell);
    const dir = snapshotsDir(ctx.dataDir, cell);
    return { dir, metaDir: path.join(dir, SNAPSHOT_META_DIR), tmpDir: path.join(dir, SNAPSHOT_TMP_DIR) };
  }

  async function requireArea(cell: string): Promise<ReturnType<typeof areaOf>> {
    const area = areaOf(cell);
    try {
      await stat(area.tmpDir);
    } catch (error) {
      if (isNotFound(error)) throw new CellNotFoundError(`Cell not found: ${cell}`);
      throw error;
    }
    return area;
  }

  async function readSidecar(metaDir: string, name: string): Promise<Sidecar | null> {
    try {
      const value = JSON.parse(await readFile(path.join(metaDir, name), "utf8")) as Partial<Sidecar>;
      if (typeof value.version !== "number" || typeof value.updated !== "number") return null;
      return value as Sidecar;
    } catch (error) {
      // A missing or unreadable sidecar is described from the file instead.
      if (isNotFound(error) || error instanceof SyntaxError) return null;
      throw error;
    }
  }

  /** The sidecar if it matches the file, else a description of the file itself. */
  function describe(
    name: string,
    sidecar: Sidecar | null,
    size: number,
    mtimeMs: number,
    birthtimeMs: number,
  ): Sidecar {
    const updated = Math.round(mtimeMs);
    if (sidecar && sidecar.size === size && sidecar.updated === updated) return sidecar;
    return {
      contentType: sidecar?.contentType ?? guessContentType(name),
      version: sidecar?.version ?? 1,
      created: sidecar?.created ?? Math.round(birthtimeMs || mtimeMs),
      updated,
      size,
    };
  }

  async function statIn(area: ReturnType<typeof areaOf>, name: string, keepOpen: boolean) {
    const read = await readPaired(
      path.join(area.dir, name),
      () => readSidecar(area.metaDir, name),
      (m, stats) => sameVersion(stats, m.size, m.updated),
      keepOpen,
    );
    if (!read) return null;
    if (!read.stats.isFile()) {
      await read.handle?.close();
      return null;
    }
    const { stats } = read;
    return {
      sidecar: describe(name, read.meta, stats.size, stats.mtimeMs, stats.birthtimeMs),
      handle: read.handle,
    };
  }

  function checkIfMatch(ifMatch: string | undefined, current: Sidecar | null, name: string): void {
    if (!ifMatchPasses(ifMatch, current ? etagOf({ v: current.version, u: current.updated }) : null)) {
      throw new PreconditionFailedError(`ETag does not match for ${name}: If-Match ${ifMatch}`);
    }
  }

  /**
   * Publishes a finished temp file under `name`: mtime stamp, rename (the commit
   * point), sidecar. A `.zip` makes a stale `.error` of the same base go away.
   */
  async function publish(
    area: ReturnType<typeof areaOf>,
    name: string,
    temp: string,
    info: { size: number; sha256?: string; contentType?: string; ifMatch?: string },
    /** A check of the temp file, run alongside the look at the current file. */
    verify?: () => Promise<void>,
  ): Promise<{ created: boolean; sidecar: Sidecar }> {
    const [found] = await Promise.all([statIn(area, name, false), verify?.()]);
    const current = found?.sidecar ?? null;
    checkIfMatch(info.ifMatch, current, name);
    const now = ctx.now();
    const sidecar: Sidecar = {
      contentType: info.contentType ?? current?.contentType ?? guessContentType(name),
      version: (current?.version ?? 0) + 1,
      created: current?.created ?? now,
      updated: current ? Math.max(now, current.updated + 1) : now,
      size: info.size,
    };
    if (info.sha256) sidecar.sha256 = info.sha256;
    await setMtime(temp, sidecar.updated);
    await rename(temp, path.join(area.dir, name));
    // Both only after the rename, and independent of each other.
    await Promise.all([
      writeFileAtomic(path.join(area.metaDir, name), JSON.stringify(sidecar), area.tmpDir, ctx.durable),
      name.endsWith(ZIP_SUFFIX) ? removeFile(area, `${baseName(name)}${ERROR_SUFFIX}`) : undefined,
    ]);
    // Once this returns, clients are told the file exists (an export's job completes):
    // the two renames must outlive a power loss too.
    if (ctx.durable) await Promise.all([syncDirectory(area.dir), syncDirectory(area.metaDir)]);
    return { created: current === null, sidecar };
  }

  /** Unpublishes with one rename (the file is gone for readers at once), then tidies up. */
  async function removeFile(area: ReturnType<typeof areaOf>, name: string): Promise<boolean> {
    const doomed = path.join(area.tmpDir, tempName("delete"));
    try {
      await rename(path.join(area.dir, name), doomed);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    await removeQuietly(path.join(area.metaDir, name));
    await removeQuietly(doomed);
    return true;
  }

  async function putStream(
    cell: string,
    name: string,
    body: Readable,
    options: WriteOptions,
    fixedType?: string,
  ): Promise<WriteResult> {
    assertSnapshotFileName(name);
    const area = await requireArea(cell);
    checkIfMatch(options.ifMatch, (await statIn(area, name, false))?.sidecar ?? null, name);
    const temp = path.join(area.tmpDir, tempName("put"));
    const written = await streamToFile(body, temp, {
      maxBytes: options.maxBytes,
      hash: true,
      durable: ctx.durable,
    });
    try {
      const contentType = fixedType ?? options.contentType;
      const { created, sidecar } = await publish(area, name, temp, {
        size: written.size,
        ...(written.sha256 ? { sha256: written.sha256 } : {}),
        ...(contentType ? { contentType } : {}),
        ...(options.ifMatch ? { ifMatch: options.ifMatch } : {}),
      });
      return { created, etag: etagOf({ v: sidecar.version, u: sidecar.updated }) };
    } finally {
      await removeQuietly(temp);
    }
  }

  return {
    async list(cell) {
      const area = await requireArea(cell);
      const entries = await readdir(area.dir, { withFileTypes: true });
      const names = entries
        .filter((e) => e.isFile() && e.name !== SNAPSHOT_META_DIR && e.name !== SNAPSHOT_TMP_DIR)
        .map((e) => e.name)
        .sort();
      const stats = await mapLimit(names, 16, async (name) => {
        const found = await statIn(area, name, false);
        return found ? toSnapshotStat(name, found.sidecar) : null;
      });
      return stats.filter((s): s is SnapshotStat => s !== null);
    },

    async stat(cell, name) {
      assertSnapshotFileName(name);
      const found = await statIn(await requireArea(cell), name, false);
      return found ? toSnapshotStat(name, found.sidecar) : null;
    },

    async open(cell, name, range) {
      assertSnapshotFileName(name);
      const found = await statIn(await requireArea(cell), name, true);
      if (!found?.handle) throw new NotFoundError(`Snapshot file not found: ${name}`);
      const { sidecar, handle } = found;
      let bounds: { start: number; end: number } | undefined;
      if (range) {
        if (!(range.start >= 0 && range.start <= range.end && range.start < sidecar.size)) {
          await handle.close();
          throw new RangeNotSatisfiableError(
            `Range ${range.start}-${range.end} is outside 0-${sidecar.size - 1}`,
            sidecar.size,
          );
        }
        bounds = { start: range.start, end: Math.min(range.end, sidecar.size - 1) };
      }
      // The stream reads the very file the sidecar was paired with, even if it is replaced now.
      const stream = handle.createReadStream(bounds ? { ...bounds, autoClose: true } : { autoClose: true });
      return { stat: toSnapshotStat(name, sidecar), stream };
    },

    put(cell, name, body, options = {}) {
      return putStream(cell, name, body, options);
    },

    async delete(cell, name, options = {}) {
      assertSnapshotFileName(name);
      const area = await requireArea(cell);
      const current = (await statIn(area, name, false))?.sidecar ?? null;
      if (!current) throw new NotFoundError(`Snapshot file not found: ${name}`);
      checkIfMatch(options.ifMatch, current, name);
      if (!(await removeFile(area, name))) throw new NotFoundError(`Snapshot file not found: ${name}`);
    },

    async createWriter(cell, name, attemptKey): Promise<SnapshotWriter> {
      const fileName = name.endsWith(ZIP_SUFFIX) ? name : `${name}${ZIP_SUFFIX}`;
      assertSnapshotFileName(fileName);
      const area = areaOf(cell);
      // The attempt key only helps a human match a temp file to a job; the UUID keeps it unique.
      const key = String(attemptKey)
        .replace(/[^A-Za-z0-9_.-]/g, "_")
        .slice(0, 64);
      const tempPath = path.join(area.tmpDir, `${tempName(`export-${key}`)}.part`);
      await createEmptyFile(tempPath).catch((error: unknown) => {
        // No temp directory: no cell.
        if (isNotFound(error)) throw new CellNotFoundError(`Cell not found: ${cell}`);
        throw error;
      });
      let finished = false;
      // Durability: the caller fsyncs the temp file before commit (the worker's export
      // does), so the rename never publishes bytes still only in the page cache; when
      // the store is durable, the sidecar is fsynced before its own rename and both
      // directories after the renames (publish), so a committed snapshot outlives a
      // power loss. Before that point a power loss leaves the previous state whole.
      return {
        tempPath,
        async commit(info) {
          if (finished) throw new ConflictError(`Snapshot writer for ${fileName} already finished`);
          const verify = async () => {
            const written = await stat(tempPath).catch((error: unknown) => {
              if (isNotFound(error)) throw new NotFoundError(`Temp file of ${fileName} is gone: ${tempPath}`);
              throw error;
            });
            if (written.size !== info.size) {
              throw new ConflictError(
                `Expected ${info.size} bytes in the temp file of ${fileName}, found ${written.size}`,
              );
            }
          };
          const { sidecar } = await publish(
            area,
            fileName,
            tempPath,
            { size: info.size, sha256: info.sha256, contentType: "application/zip" },
            verify,
          );
          finished = true;
          return toSnapshotStat(fileName, sidecar);
        },
        async abort() {
          finished = true;
          await removeQuietly(tempPath);
        },
      };
    },

    async writeError(cell, name, body) {
      const fileName = `${baseName(name)}${ERROR_SUFFIX}`;
      await putStream(
        cell,
        fileName,
        Readable.from([Buffer.from(JSON.stringify(body))]),
        {},
        "application/json",
      );
    },

    async sweepTemp(cell, olderThanMs) {
      const area = areaOf(cell);
      const now = ctx.now();
      // Runs before every job (and after a failed one), and usually finds nothing: every
      // directory is listed in one request to the listing thread, a stat spent only on a candidate.
      const [temps, cellTemps, sidecars, files, cellEntries] = await listingThread.list([
        area.tmpDir,
        cellTmpDir(ctx.dataDir, cell),
        area.metaDir,
        area.dir,
        cellDir(ctx.dataDir, cell),
      ]);
      if (!temps) throw new CellNotFoundError(`Cell not found: ${cell}`);
      const generations = await sweepStaleGenerations(ctx, cell, cellEntries ?? []);
      let removed = generations;
      removed += await removeOld(area.tmpDir, temps, olderThanMs, now);
      removed += await removeOld(cellTmpDir(ctx.dataDir, cell), cellTemps ?? [], olderThanMs, now);
      // Sidecars whose file is gone (a delete interrupted between its two steps). The
      // two listings are not taken at one instant; the age check keeps a sidecar
      // whose file is being published right now.
      const present = new Set(files);
      const orphans = files ? (sidecars ?? []).filter((name) => !present.has(name)) : [];
      removed += await removeOld(area.metaDir, orphans, olderThanMs, now);
      return removed;
    },
  };
}
