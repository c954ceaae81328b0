/**
 * The snapshot area, `cells/{cell}/snapshots/`: committed files by their own name,
 * a JSON sidecar per file in `.meta/` (snapshot-sidecar.ts), and writes in flight in
 * `.tmp/`. Every write streams into `.tmp/` and is published by one rename(); the
 * sidecar follows with a second rename and is paired with the file on read
 * (paired-read.ts), so a file without a matching sidecar (crash, or copied in by
 * hand) still lists, described from the file itself. Publishing and removing run in
 * the store thread (snapshot-publish.ts); reads run here.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { CellNotFoundError, ConflictError, NotFoundError, RangeNotSatisfiableError } from "./errors.ts";
import { removeOld } from "./fs-cells.ts";
import type { FsContext } from "./fs-context.ts";
import { cellDir, cellTmpDir, SNAPSHOT_META_DIR, SNAPSHOT_TMP_DIR, snapshotsDir } from "./fs-layout.ts";
import { sweepStaleGenerations } from "./fs-replace.ts";
import { isNotFound, mapLimit, removeQuietly, streamToFile, tempName } from "./fs-util.ts";
import { readPaired } from "./paired-read.ts";
import { assertCellName, assertSnapshotFileName } from "./path-rules.ts";
import type { SnapshotArea, SnapshotStat, SnapshotWriter, WriteOptions, WriteResult } from "./port.ts";
import { etagOf } from "./resource-meta.ts";
import {
  baseName,
  checkIfMatch,
  describeFile,
  ERROR_SUFFIX,
  parseSidecar,
  type Sidecar,
  sidecarMatches,
  toSnapshotStat,
  ZIP_SUFFIX,
} from "./snapshot-sidecar.ts";
import { storeThread } from "./store-thread.ts";
import type { PublishRequest, SnapshotAreaPaths } from "./store-thread-protocol.ts";

export function createFsSnapshotArea(ctx: FsContext): SnapshotArea {
  function areaOf(cell: string): SnapshotAreaPaths {
    assertCellName(cell);
    const dir = snapshotsDir(ctx.dataDir, cell);
    return { dir, metaDir: path.join(dir, SNAPSHOT_META_DIR), tmpDir: path.join(dir, SNAPSHOT_TMP_DIR) };
  }

  async function requireArea(cell: string): Promise<SnapshotAreaPaths> {
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
      return parseSidecar(await readFile(path.join(metaDir, name), "utf8"));
    } catch (error) {
      // A missing sidecar: the file is described from itself.
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async function statIn(area: SnapshotAreaPaths, name: string, keepOpen: boolean) {
    const read = await readPaired(
      path.join(area.dir, name),
      () => readSidecar(area.metaDir, name),
      sidecarMatches,
      keepOpen,
    );
    if (!read) return null;
    if (!read.stats.isFile()) {
      await read.handle?.close();
      return null;
    }
    return { sidecar: describeFile(name, read.meta, read.stats), handle: read.handle };
  }

  /** Publishes a finished temp file under `name` (the store thread runs it: snapshot-publish.ts). */
  function publish(
    area: SnapshotAreaPaths,
    name: string,
    temp: string,
    info: Omit<PublishRequest, "id" | "kind" | "area" | "name" | "temp" | "now" | "durable">,
  ): Promise<{ created: boolean; sidecar: Sidecar }> {
    return storeThread.publish({ ...info, area, name, temp, now: ctx.now(), durable: ctx.durable });
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
      await storeThread.remove({
        cell,
        area: areaOf(cell),
        name,
        ...(options.ifMatch ? { ifMatch: options.ifMatch } : {}),
      });
    },

    async createWriter(cell, name, attemptKey): Promise<SnapshotWriter> {
      const fileName = name.endsWith(ZIP_SUFFIX) ? name : `${name}${ZIP_SUFFIX}`;
      assertSnapshotFileName(fileName);
      const area = areaOf(cell);
      // The attempt key only helps a human match a temp file to a job; the UUID keeps it unique.
      const key = String(attemptKey)
        .replace(/[^A-Za-z0-9_.-]/g, "_")
        .slice(0, 64);
      // Only a name: the writer creates the file when it writes (a small zip is handed
      // to commit whole and written there), so a writer costs no file-system call.
      const tempPath = path.join(area.tmpDir, `${tempName(`export-${key}`)}.part`);
      let finished = false;
      // Durability: the temp file is on disk before the rename publishes it — the
      // caller fsyncs what it wrote (the worker's export does), and content handed to
      // commit whole is written and fsynced by the commit; when the store is durable,
      // the sidecar is fsynced before its own rename and both directories after the
      // renames (snapshot-publish.ts), so a committed snapshot outlives a power loss.
      // Before that point a power loss leaves the previous state whole.
      return {
        tempPath,
        async commit(info) {
          if (finished) throw new ConflictError(`Snapshot writer for ${fileName} already finished`);
          const { sidecar } = await publish(area, fileName, tempPath, {
            size: info.size,
            sha256: info.sha256,
            contentType: "application/zip",
            expectSize: info.size,
            createOnly: true,
            ...(info.data ? { data: info.data } : {}),
          });
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
      // directory is listed in one request to the store thread, a stat spent only on a candidate.
      const [temps, cellTemps, sidecars, files, cellEntries] = await storeThread.list([
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
