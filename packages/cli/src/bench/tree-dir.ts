/**
 * The on-disk directory of a cell's live content in the fs store — what `zip` and
 * `tar` read in `bench export`. Mirrors the store's layout (packages/store
 * fs-layout.ts: `{dataDir}/cells/{cell}/current`); the store does not export its
 * layout helpers, and the benchmark needs only this one path.
 */
import { join } from "node:path";

export function cellTreeDir(dataDir: string, cell: string): string {
  return join(dataDir, "cells", cell, "current");
}
