/**
 * Property: whatever an archive holds, an import of it either succeeds or fails with
 * a Personium 400 error that names the problem — never an unexpected error (which
 * would be recorded as "Unknown error") — and it never writes outside the target
 * cell's directory. A failed import leaves every file exactly as it was: no staged
 * generation, no temp file. The archives come from `@cellport/snapshot/hostile-zips`
 * (the api's POST `__import` property uses the same ones).
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { PersoniumError } from "@cellport/shared";
import { buildHostileArchive, hostileArchive } from "@cellport/snapshot/hostile-zips";
import { type CellStore, createFsStore } from "@cellport/store";
import { changedPaths, treeState } from "@cellport/store/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runImport } from "./import-pipeline.ts";
import { seedCell } from "./test-fixtures.ts";

const CELL = "target";
const UNIT = "http://localhost:8080/";
/** Small bounds, so compression bombs and lying sizes meet them within a test's budget. */
const LIMITS = {
  maxEntries: 200,
  maxEntryBytes: 256 * 1024,
  maxTotalBytes: 1024 * 1024,
  maxDocumentBytes: 16 * 1024,
};
const RUNS = 150;

let root: string;
let dataDir: string;
let store: CellStore;

beforeAll(async () => {
  // The data dir sits a few levels below the root we watch, so a write that climbs
  // out of it with `..` still lands where the tree comparison sees it.
  root = await mkdtemp(path.join(tmpdir(), "cellport-hostile-"));
  dataDir = path.join(root, "a", "b", "c", "data");
  await mkdir(dataDir, { recursive: true });
  store = createFsStore({ dataDir, durable: false });
  await seedCell(store, CELL, { bigFileBytes: 10_000 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("import of hostile archives (property)", () => {
  it("succeeds or fails with a PR400 error, writes only inside the cell, and a failure changes nothing", async () => {
    const cellDir = path.join("a", "b", "c", "data", "cells", CELL) + path.sep;
    let failures = 0;
    await fc.assert(
      fc.asyncProperty(hostileArchive, async (spec) => {
        const bytes = await buildHostileArchive(spec);
        await store.snapshots.put(CELL, "h.zip", Readable.from([bytes]));
        const absolute = spec.added.map((a) => a.name).filter((n) => n.startsWith("/") && !existsSync(n));
        const before = await treeState(root);

        const outcome = await runImport({
          store,
          cell: CELL,
          name: "h",
          targetUnitUrl: UNIT,
          limits: LIMITS,
        }).then(
          () => null,
          (error: unknown) => error,
        );

        const changed = changedPaths(before, await treeState(root));
        expect(changed.filter((p) => !p.startsWith(cellDir))).toEqual([]);
        for (const name of absolute) expect(existsSync(name), name).toBe(false);
        if (outcome !== null) {
          failures++;
          expect(outcome).toBeInstanceOf(PersoniumError);
          expect((outcome as PersoniumError).code).toMatch(/^PR400-/);
          // The cell is untouched: no staged generation, no temp file, no changed byte.
          expect(changed).toEqual([]);
        }
        await store.snapshots.delete(CELL, "h.zip");
      }),
      { numRuns: RUNS },
    );
    // The generator is hostile enough that most archives are refused.
    expect(failures).toBeGreaterThan(RUNS / 2);
  }, 60_000);
});
