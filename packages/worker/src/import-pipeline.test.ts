import { readdir } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { ENTITY_TYPE_NAMES, type EntityDocument, PersoniumError } from "@cellport/shared";
import {
  buildZip,
  minimalSnapshotEntries,
  patchCentralEntry,
  personiumSnapshot,
  renameEntry,
  type ZipEntrySpec,
} from "@cellport/snapshot/testing";
import { CellNotFoundError, type CellStore } from "@cellport/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runExport } from "./export-pipeline.ts";
import { importRunner, runImport } from "./import-pipeline.ts";
import { createTempStore, seedCell, type TempStore } from "./test-fixtures.ts";

const UNIT = "http://localhost:8080/";

let temp: TempStore;
let store: CellStore;
beforeEach(async () => {
  temp = await createTempStore();
  store = temp.store;
});
afterEach(async () => {
  await temp.cleanup();
});

async function putSnapshot(cell: string, name: string, zip: Buffer | ZipEntrySpec[]): Promise<void> {
  const bytes = Buffer.isBuffer(zip) ? zip : await buildZip(zip);
  await store.snapshots.put(cell, `${name}.zip`, Readable.from([bytes]));
}

interface Fingerprint {
  document: Record<string, unknown>;
  entities: Record<string, EntityDocument[]>;
  /** Tree path → content type and bytes (files) or "collection". */
  tree: Record<string, string>;
}

/** Everything a client can see of a cell, to compare before and after. */
async function fingerprint(cell: string): Promise<Fingerprint> {
  const document = (await store.getCell(cell))?.raw ?? {};
  const entities: Record<string, EntityDocument[]> = {};
  for (const type of ENTITY_TYPE_NAMES) {
    const docs: EntityDocument[] = [];
    for await (const doc of store.readEntities(cell, type)) docs.push(doc);
    entities[type] = docs;
  }
  const tree: Record<string, string> = {};
  async function walk(treePath: string): Promise<void> {
    for (const child of await store.list(cell, treePath)) {
      if (child.isCollection) {
        tree[child.path] = "collection";
        await walk(child.path);
      } else {
        const { stream } = await store.openFile(cell, child.path);
        tree[child.path] = `${child.meta.ct} ${(await buffer(stream)).toString("base64")}`;
      }
    }
  }
  await walk("__");
  return { document, entities, tree };
}

/** Generation directories of the cell: exactly one unless an import left something behind. */
async function generations(cell: string): Promise<string[]> {
  return (await readdir(path.join(temp.dataDir, "cells", cell))).filter((n) => n.startsWith("gen-"));
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("Expected the import to fail");
    },
    (e: unknown) => e,
  );
}

describe("runImport", () => {
  it("imports a snapshot laid out as Personium writes it, rewritten for the target cell", async () => {
    const target = await store.createCell("c2");
    const snapshot = personiumSnapshot();
    await putSnapshot("c2", "p", snapshot.entries);

    const result = await runImport({ store, cell: "c2", name: "p", targetUnitUrl: UNIT, now: () => 42 });
    expect(result).toEqual({ kind: "import", entities: 6, files: 1 });

    const cell = await store.getCell("c2");
    expect(cell?.id).toBe(target.id);
    expect(cell?.raw).toMatchObject({ _id: target.id, _source: { s: { Name: "c2" }, u: 42 } });

    const after = await fingerprint("c2");
    expect(after.entities.Role?.map((d) => d._id)).toEqual([
      "role0000000000000000000000000001",
      "role0000000000000000000000000002",
    ]);
    for (const docs of Object.values(after.entities)) {
      for (const doc of docs) expect(doc._source.c).toBe(target.id);
    }
    const [userData] = after.entities.UserData ?? [];
    // The main box's id is the cell id: it follows the cell.
    expect(userData?._source.b).toBe(target.id);
    expect(userData?._source.s).toMatchObject({ note: "see http://localhost:8080/c2/__/docs/hello.txt" });
    expect(after.entities.ExtCell?.[0]?._source.s).toEqual({ Url: "http://localhost:8080/friend/" });
    expect(JSON.stringify(after)).not.toContain(snapshot.cellId);
    expect(JSON.stringify(after)).not.toContain("personium.example");

    expect(after.tree).toEqual({
      "__/docs": "collection",
      "__/docs/hello.txt": `text/plain ${Buffer.from(snapshot.fileText).toString("base64")}`,
    });
    const box = await store.stat("c2", "__");
    expect(box?.meta).toMatchObject({
      i: target.id,
      a: { "xml:base": "http://localhost:8080/c2/__role/__/" },
    });
    expect(await generations("c2")).toHaveLength(1);
  });

  it("round-trips: export(A) → B's snapshot area → import(B) gives B A's entities and files", async () => {
    await seedCell(store, "a");
    const b = await store.createCell("b");
    const a = await store.getCell("a");
    await runExport({ store, cell: "a", name: "snapA", unitUrl: UNIT, attemptKey: "t.1" });
    const exported = await store.snapshots.open("a", "snapA.zip");
    await store.snapshots.put("b", "snapA.zip", exported.stream);

    const result = await runImport({ store, cell: "b", name: "snapA", targetUnitUrl: UNIT });
    const before = await fingerprint("a");
    const after = await fingerprint("b");
    expect(result.entities).toBe(Object.values(before.entities).flat().length);
    expect(after.tree).toEqual(before.tree);
    // Entities: equal, but they now belong to B.
    const asB = JSON.parse(JSON.stringify(before.entities).replaceAll(String(a?.id), b.id));
    for (const docs of Object.values(asB) as EntityDocument[][]) for (const doc of docs) doc._source.c = b.id;
    expect(after.entities).toEqual(asB);
    expect(after.document).toMatchObject({ _id: b.id, _source: { s: { Name: "b" } } });
  });

  it("reports whole, non-decreasing percents weighted by bytes, 100 after the commit", async () => {
    await store.createCell("c2");
    const big = Buffer.alloc(2 * 1024 * 1024, 1);
    await putSnapshot("c2", "big", [
      ...minimalSnapshotEntries(),
      {
        name: "20_webdav/__/big.bin/.pmeta",
        data: '{"i":"f","t":"dav.file","p":1,"u":1,"ct":"application/octet-stream"}',
      },
      { name: "20_webdav/__/big.bin/content", data: big },
    ]);
    const seen: number[] = [];
    await runImport({
      store,
      cell: "c2",
      name: "big",
      targetUnitUrl: UNIT,
      progressIntervalMs: 0,
      onProgress: (p) => {
        seen.push(p);
      },
    });
    expect(seen.at(-1)).toBe(100);
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every((p, i) => Number.isInteger(p) && (i === 0 || p >= (seen[i - 1] ?? 0)))).toBe(true);
    expect(seen.slice(0, -1).every((p) => p < 100)).toBe(true);
  });
});

describe("runImport: atomicity (the cell stays exactly as it was)", () => {
  async function seededTarget(): Promise<Fingerprint> {
    await seedCell(store, "t");
    return fingerprint("t");
  }

  it("a damaged entry late in the archive: nothing of the import is visible, nothing left behind", async () => {
    const before = await seededTarget();
    const zip = await buildZip([
      ...personiumSnapshot().entries,
      { name: "20_webdav/__/late.bin/.pmeta", data: '{"i":"l","t":"dav.file","p":1,"u":1}' },
      { name: "20_webdav/__/late.bin/content", data: "corrupt me" },
    ]);
    await putSnapshot("t", "bad", patchCentralEntry(zip, "20_webdav/__/late.bin/content", { crc32: 1 }));

    const error = await failure(runImport({ store, cell: "t", name: "bad", targetUnitUrl: UNIT }));
    expect(error).toBeInstanceOf(PersoniumError);
    expect((error as PersoniumError).code).toBe("PR400-MC-9001");
    expect(await fingerprint("t")).toEqual(before);
    expect(await generations("t")).toHaveLength(1);
  });

  it("a bad pjson line: PR400-MC-9005, cell unchanged", async () => {
    const before = await seededTarget();
    const entries = minimalSnapshotEntries().map((e) =>
      e.name === "10_odata/70_userdata.pjson"
        ? { ...e, data: '{"_type":"UserData","_id":"x","_source":{}}\n{bad' }
        : e,
    );
    await putSnapshot("t", "bad", entries);
    const error = await failure(runImport({ store, cell: "t", name: "bad", targetUnitUrl: UNIT }));
    expect((error as PersoniumError).code).toBe("PR400-MC-9005");
    expect(await fingerprint("t")).toEqual(before);
    expect(await generations("t")).toHaveLength(1);
  });

  it("a hostile archive is refused before anything is staged", async () => {
    const before = await seededTarget();
    const placeholder = "20_webdav/__/QQQQQQQQQQQ/.pmeta";
    const zip = await buildZip([
      ...minimalSnapshotEntries(),
      { name: placeholder, data: '{"t":"col.webdav"}' },
    ]);
    await putSnapshot("t", "evil", renameEntry(zip, placeholder, "20_webdav/__/../../../../.pmeta"));
    const error = await failure(runImport({ store, cell: "t", name: "evil", targetUnitUrl: UNIT }));
    expect((error as PersoniumError).code).toBe("PR400-MC-9001");
    expect(await fingerprint("t")).toEqual(before);
    expect(await generations("t")).toHaveLength(1);
  });

  it("cancelled mid-way: rejects with the reason, cell unchanged", async () => {
    const before = await seededTarget();
    await putSnapshot("t", "big", [
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/big.bin/.pmeta", data: '{"i":"f","t":"dav.file","p":1,"u":1}' },
      { name: "20_webdav/__/big.bin/content", data: Buffer.alloc(4 * 1024 * 1024, 3) },
    ]);
    const controller = new AbortController();
    const reason = new Error("cancelled by test");
    const error = await failure(
      runImport({
        store,
        cell: "t",
        name: "big",
        targetUnitUrl: UNIT,
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          if (p > 0) controller.abort(reason);
        },
      }),
    );
    expect(error).toBe(reason);
    expect(await fingerprint("t")).toEqual(before);
    expect(await generations("t")).toHaveLength(1);
  });

  it("a missing snapshot: PR404-DV-0001 naming the file", async () => {
    await store.createCell("t");
    const error = await failure(runImport({ store, cell: "t", name: "nope", targetUnitUrl: UNIT }));
    expect(error).toBeInstanceOf(PersoniumError);
    expect((error as PersoniumError).message).toBe("Resource not found. [nope.zip].");
  });

  it("a missing cell: CellNotFoundError", async () => {
    const error = await failure(runImport({ store, cell: "ghost", name: "x", targetUnitUrl: UNIT }));
    expect(error).toBeInstanceOf(CellNotFoundError);
  });
});

describe("importRunner (the processor's ImportRunner)", () => {
  it("maps the job's unit URL to the target unit URL", async () => {
    await store.createCell("c2");
    await putSnapshot("c2", "p", personiumSnapshot().entries);
    const percents: number[] = [];
    const result = await importRunner({
      store,
      cell: "c2",
      name: "p",
      unitUrl: "https://cellport.example/",
      attemptKey: "job.1",
      signal: new AbortController().signal,
      onProgress: async (p) => {
        percents.push(p);
      },
      logger: { warn: () => {} } as never,
    });
    expect(result.kind).toBe("import");
    // A short import writes no percent at all (progress-throttle.ts); any that were written end with 100.
    expect(percents.at(-1) ?? 100).toBe(100);
    const [userData] = (await fingerprint("c2")).entities.UserData ?? [];
    expect(userData?._source.s).toMatchObject({ note: "see https://cellport.example/c2/__/docs/hello.txt" });
  });
});
