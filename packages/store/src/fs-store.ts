/**
 * `createFsStore`: the cell store on a plain (or NFS-shared) file system. Stateless
 * apart from its settings: every operation reads what it needs from disk, so any
 * number of processes on any number of machines can share one data directory. The
 * layout is described in fs-layout.ts.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { CellNotFoundError, InvalidNameError } from "./errors.ts";
import * as cells from "./fs-cells.ts";
import { type FsContext, resolveGeneration } from "./fs-context.ts";
import * as entities from "./fs-entities.ts";
import { exportEntries } from "./fs-export.ts";
import { cellDir } from "./fs-layout.ts";
import { beginReplace, TOUCH_INTERVAL_MS } from "./fs-replace.ts";
import { createFsSnapshotArea } from "./fs-snapshots.ts";
import * as tree from "./fs-tree.ts";
import { isNotFound, writeFileAtomic } from "./fs-util.ts";
import { assertSnapshotFileName } from "./path-rules.ts";
import type { CellStore, InternalArea } from "./port.ts";

export interface FsStoreOptions {
  /** Root of everything the store keeps; created if missing. */
  dataDir: string;
  /**
   * fsync written data before the rename that publishes it (default true). Turn off
   * only for throwaway data (tests, load-test fixtures): a power loss may then leave
   * empty files behind a completed rename.
   */
  durable?: boolean;
  /**
   * How long an unreferenced generation must have gone untouched before it is swept
   * as a crashed import's leftover (default 10 min: an open replacement touches its
   * own every minute).
   */
  staleGenerationMs?: number;
  /** Clock, epoch ms (tests). */
  now?: () => number;
}

export function createFsStore(options: FsStoreOptions): CellStore {
  const ctx: FsContext = {
    dataDir: path.resolve(options.dataDir),
    durable: options.durable ?? true,
    staleGenerationMs: options.staleGenerationMs ?? 10 * TOUCH_INTERVAL_MS,
    now: options.now ?? Date.now,
  };

  return {
    createCell: (name) => cells.createCell(ctx, name),
    deleteCell: (name) => cells.deleteCell(ctx, name),
    getCell: (name) => cells.getCell(ctx, name),
    hasCell: (name) => cells.hasCell(ctx, name),
    listCells: () => cells.listCells(ctx),

    appendEntities: (cell, type, docs) => entities.appendEntities(ctx, cell, type, docs),
    readEntities: (cell, type) => entities.readEntities(ctx, cell, type),

    stat: (cell, treePath) => tree.stat(ctx, cell, treePath),
    list: (cell, treePath) => tree.list(ctx, cell, treePath),
    mkcol: (cell, treePath) => tree.mkcol(ctx, cell, treePath),
    putFile: (cell, treePath, body, writeOptions) => tree.putFile(ctx, cell, treePath, body, writeOptions),
    openFile: (cell, treePath, range) => tree.openFile(ctx, cell, treePath, range),
    deleteResource: (cell, treePath, deleteOptions) =>
      tree.deleteResource(ctx, cell, treePath, deleteOptions),

    exportEntries: (cell) => exportEntries(ctx, cell),
    beginReplace: (cell) => beginReplace(ctx, cell),

    async writeInternalFile(
      cell: string,
      area: InternalArea,
      name: string,
      data: Buffer | string,
    ): Promise<void> {
      await resolveGeneration(ctx, cell);
      assertSnapshotFileName(name);
      if (area !== ".pkeys" && area !== ".pauthhistory")
        throw new InvalidNameError(`Unknown internal area ${area}`);
      const dir = path.join(cellDir(ctx.dataDir, cell), area);
      try {
        await mkdir(dir, { recursive: true });
        await writeFileAtomic(path.join(dir, name), data, dir, ctx.durable);
      } catch (error) {
        if (isNotFound(error)) throw new CellNotFoundError(`Cell not found: ${cell}`);
        throw error;
      }
    },

    snapshots: createFsSnapshotArea(ctx),
  };
}
