import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { deflateRawSync } from "node:zlib";
import { ENTITY_TYPES, type EntityType } from "@cellport/shared";
import { CellExistsError, type CellStore, createFsStore } from "@cellport/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UsageError } from "./errors.ts";
import { type SeedOptions, seedCell } from "./seed.ts";

const SMALL: Omit<SeedOptions, "cell"> = {
  boxes: 2,
  entitiesPerType: 5,
  files: 40,
  totalBytes: 3 * 1024 * 1024 + 17,
  textRatio: 0.5,
  seed: 42,
};

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Every export entry's name and the SHA-256 of its bytes. */
async function exportDigest(store: CellStore, cell: string): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const entry of await store.exportEntries(cell)) {
    const data = entry.directory ? Buffer.alloc(0) : await readAll(entry.open());
    expect(data.length, entry.name).toBe(entry.size);
    digests.set(entry.name, createHash("sha256").update(data).digest("hex"));
  }
  return digests;
}

describe("seedCell", () => {
  let dataDir: string;
  let store: CellStore;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "cellport-seed-"));
    store = createFsStore({ dataDir, durable: false });
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("makes the same bytes for the same seed, other bytes for another", async () => {
    await seedCell(store, { ...SMALL, cell: "a" });
    await seedCell(store, { ...SMALL, cell: "b" });
    await seedCell(store, { ...SMALL, cell: "c", seed: 43 });
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((cell) => exportDigest(store, cell)));
    // Only the cell document names the cell; everything else is identical byte for byte.
    const withoutCellDoc = (m: Map<string, string> | undefined) =>
      [...(m ?? [])].filter(([name]) => name !== "10_odata/00_cell.json");
    expect(withoutCellDoc(b)).toEqual(withoutCellDoc(a));
    expect(withoutCellDoc(c)).not.toEqual(withoutCellDoc(a));
    expect((await store.getCell("a"))?.id).toBe((await store.getCell("b"))?.id);
  });

  it("creates the counts asked for, Personium-shaped", async () => {
    const progress: [number, number][] = [];
    const result = await seedCell(store, {
      ...SMALL,
      cell: "c1",
      onProgress: (d, t) => progress.push([d, t]),
    });
    expect(result).toMatchObject({ files: 40, bytes: SMALL.totalBytes, boxes: 2 });
    for (const { type } of ENTITY_TYPES) {
      const docs = [];
      for await (const doc of store.readEntities("c1", type)) docs.push(doc);
      const expected = type === "Box" ? 2 : 5;
      expect(docs, type).toHaveLength(expected);
      expect(result.entities[type as EntityType]).toBe(expected);
      for (const doc of docs) {
        expect(doc._type).toBe(type);
        expect(doc._id).toMatch(/^[0-9a-f]{32}$/);
        const keys =
          type === "link"
            ? ["c", "b", "n", "t1", "k1", "t2", "k2", "p", "u"]
            : ["c", "b", "n", "s", "d", "h", "l", "p", "u"];
        expect(Object.keys(doc._source), type).toEqual(keys);
        expect(doc._source.c).toBe(result.cellId);
      }
    }
    const entries = await store.exportEntries("c1");
    const contents = entries.filter((e) => e.name.endsWith("/content"));
    expect(contents).toHaveLength(40);
    expect(contents.reduce((sum, e) => sum + e.size, 0)).toBe(SMALL.totalBytes);
    // Files under the main box and under each other box (by box id, as Personium names them).
    const boxes = new Set(contents.map((e) => e.name.split("/")[1]));
    expect(boxes.has("__")).toBe(true);
    expect(boxes.size).toBeGreaterThan(1);
    for (const box of await collectBoxIds(store, "c1"))
      expect(entries.some((e) => e.name === `20_webdav/${box}/.pmeta`)).toBe(true);
    // Every file resource is consistent for the store: stat agrees with the content.
    const first = contents[0]?.name.replace(/^20_webdav\//, "").replace(/\/content$/, "") as string;
    const stat = await store.stat("c1", first);
    expect(stat?.meta.cl).toBe(stat?.size);
    expect(stat?.etag).toMatch(/^"1-\d+"$/);
    // Progress is monotonic and ends at the total.
    expect(progress.at(-1)).toEqual([SMALL.totalBytes, SMALL.totalBytes]);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]?.[0]).toBeGreaterThanOrEqual(progress[i - 1]?.[0] ?? 0);
  });

  it("mixes compressible text and random bytes as asked", async () => {
    const textual = await seedCell(store, { ...SMALL, cell: "t", textRatio: 1 });
    const random = await seedCell(store, { ...SMALL, cell: "r", textRatio: 0 });
    expect(textual.textBytes).toBe(SMALL.totalBytes);
    expect(random.textBytes).toBe(0);
    const ratio = async (cell: string) => {
      let raw = 0;
      let packed = 0;
      for (const e of await store.exportEntries(cell)) {
        if (!e.name.endsWith("/content")) continue;
        const data = await readAll(e.open());
        raw += data.length;
        packed += deflateRawSync(data).length;
      }
      return packed / raw;
    };
    expect(await ratio("t")).toBeLessThan(0.6);
    expect(await ratio("r")).toBeGreaterThan(0.99);
  });

  it("refuses an existing cell unless asked to replace it, and keeps its snapshots then", async () => {
    await seedCell(store, { ...SMALL, cell: "c1", files: 3, totalBytes: 1000 });
    await expect(seedCell(store, { ...SMALL, cell: "c1" })).rejects.toBeInstanceOf(CellExistsError);
    await store.snapshots.put(
      "c1",
      "keep.zip",
      (await import("node:stream")).Readable.from([Buffer.from("z")]),
    );
    const result = await seedCell(store, { ...SMALL, cell: "c1", files: 5, totalBytes: 5000, replace: true });
    expect(result.files).toBe(5);
    const contents = (await store.exportEntries("c1")).filter((e) => e.name.endsWith("/content"));
    expect(contents).toHaveLength(5);
    expect((await store.snapshots.list("c1")).map((s) => s.name)).toEqual(["keep.zip"]);
  });

  it("handles an empty cell and refuses bad options", async () => {
    const result = await seedCell(store, {
      ...SMALL,
      cell: "empty",
      boxes: 0,
      entitiesPerType: 0,
      files: 0,
      totalBytes: 0,
    });
    expect(result.files).toBe(0);
    expect((await store.exportEntries("empty")).filter((e) => e.name.endsWith("/content"))).toEqual([]);
    for (const bad of [
      { textRatio: 1.5 },
      { files: -1 },
      { files: 0, totalBytes: 10 },
      { concurrency: 0 },
      { boxes: 1.5 },
    ]) {
      await expect(
        seedCell(store, { ...SMALL, cell: "bad", ...bad }),
        JSON.stringify(bad),
      ).rejects.toBeInstanceOf(UsageError);
    }
    expect(await store.getCell("bad")).toBeNull();
  });
});

async function collectBoxIds(store: CellStore, cell: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const doc of store.readEntities(cell, "Box")) ids.push(doc._id);
  return ids;
}
