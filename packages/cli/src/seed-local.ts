/**
 * Seeding straight into the local data dir (the store the api reads), for `seed`,
 * `loadtest` and `bench`; and the zip entry count an export of a cell must have.
 */
import { type CellStore, createFsStore } from "@cellport/store";
import { type SeedResult, seedCell } from "./seed.ts";
import type { SeedProfile } from "./seed-profiles.ts";

export interface LocalSeed {
  cell: string;
  profile: SeedProfile;
  seed: string | number;
  replace?: boolean;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export function openLocalStore(dataDir: string, options: { durable?: boolean } = {}): CellStore {
  return createFsStore({ dataDir, durable: options.durable ?? true });
}

export function seedLocalCell(store: CellStore, request: LocalSeed): Promise<SeedResult> {
  const { profile } = request;
  return seedCell(store, {
    cell: request.cell,
    boxes: profile.boxes,
    entitiesPerType: profile.entitiesPerType,
    files: profile.files,
    totalBytes: profile.bytes,
    textRatio: profile.textRatio,
    seed: request.seed,
    ...(request.replace ? { replace: true } : {}),
    ...(request.onProgress ? { onProgress: request.onProgress } : {}),
  });
}

/**
 * Zip entries an export of `cell` holds: one per export entry plus the manifest
 * (the worker's export pipeline writes exactly these), or null for a cell this data
 * dir does not have.
 */
export async function expectedEntryCount(store: CellStore, cell: string): Promise<number | null> {
  if (!(await store.getCell(cell))) return null;
  return (await store.exportEntries(cell)).length + 1;
}
