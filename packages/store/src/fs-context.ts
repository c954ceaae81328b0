/** What every part of the file-system store shares: settings only, no state (several processes share the disk). */
import { readlink } from "node:fs/promises";
import path from "node:path";
import { CellNotFoundError } from "./errors.ts";
import { cellDir, currentDir } from "./fs-layout.ts";
import { isNotFound } from "./fs-util.ts";
import { assertCellName } from "./path-rules.ts";

export interface FsContext {
  readonly dataDir: string;
  /** fsync file data before the rename that publishes it. */
  readonly durable: boolean;
  /** An unreferenced generation directory older than this is a leftover of a crashed import. */
  readonly staleGenerationMs: number;
  now(): number;
}

/**
 * The absolute directory of the cell's live generation. Multi-step operations resolve
 * it once so every step works on one generation even if an import swaps `current`.
 */
export async function resolveGeneration(ctx: FsContext, cell: string): Promise<string> {
  assertCellName(cell);
  try {
    const target = await readlink(currentDir(ctx.dataDir, cell));
    return path.resolve(cellDir(ctx.dataDir, cell), target);
  } catch (error) {
    if (isNotFound(error)) throw new CellNotFoundError(`Cell not found: ${cell}`);
    throw error;
  }
}
