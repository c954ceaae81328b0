import { createHash } from "node:crypto";
import { appendFile, truncate } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { CELL_DOCUMENT_ENTRY, ENTITY_TYPES, MANIFEST_ENTRY, pjsonEntry } from "@cellport/shared";
import { readSnapshot, snapshotAreaSource } from "@cellport/snapshot";
import type { CellStore, ExportEntry } from "@cellport/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import yazl from "yazl";
import {
  IN_MEMORY_MAX_BYTES,
  READ_WHOLE_MAX_BYTES,
  runExport,
  STORE_BELOW_BYTES,
} from "./export-pipeline.ts";
import {
  createTempStore,
  findTempFiles,
  readSnapshotZip,
  seedCell,
  streamOnlyStore,
  type TempStore,
} from "./test-fixtures.ts";

let fixture: TempStore;

beforeEach(async () => {
  fixture = await createTempStore();
});

afterEach(async () => {
  await fixture.cleanup();
});

describe("runExport", () => {
  it.each([
    ["streamed (a cell bigger than IN_MEMORY_MAX_BYTES)", IN_MEMORY_MAX_BYTES + 1, true],
    ["zipped in memory (a small cell)", 2_000, false],
  ])(
    "writes the §7 layout, byte for byte, and commits it with its size and sha256: %s",
    async (_how, bigFileBytes, streamed) => {
      const { store } = fixture;
      await seedCell(store, "c1", { bigFileBytes });
      const progress: number[] = [];
      const created = new Date("2024-05-06T07:08:09.010Z");
      const result = await runExport({
        store,
        cell: "c1",
        name: "snap",
        unitUrl: "http://localhost:8080/",
        attemptKey: "job-1.1",
        onProgress: (p) => void progress.push(p),
        // Every percent is due at once: the writes end with 100 (a tiny export within the
        // default interval writes none).
        progressIntervalMs: 0,
        comment: "cellport job=job-1",
        now: () => created,
      });

      const zip = await readSnapshotZip(store, "c1", "snap");
      expect(zip.streamedEntries > 0).toBe(streamed);
      expect(zip.names[0]).toBe(MANIFEST_ENTRY);
      expect(JSON.parse(zip.files.get(MANIFEST_ENTRY)?.toString("utf8") ?? "")).toEqual({
        export_version: 2,
        unit_url: "http://localhost:8080/",
        create_date: created.getTime(),
      });
      // The manifest's exact text: plain JSON, keys in the documented order.
      expect(zip.files.get(MANIFEST_ENTRY)?.toString("utf8")).toBe(
        `{"export_version":2,"unit_url":"http://localhost:8080/","create_date":${created.getTime()}}`,
      );
      expect(zip.names).toContain(CELL_DOCUMENT_ENTRY);
      for (const type of ENTITY_TYPES) expect(zip.files.has(pjsonEntry(type.file)), type.file).toBe(true);
      expect(zip.files.get(pjsonEntry("20_role.pjson"))?.length).toBe(0);
      expect(zip.names).toContain("20_webdav/__/docs/a.txt/content");
      expect(zip.names).toContain("20_webdav/__/docs/sub/empty.bin/content");
      expect(zip.names.some((n) => n.includes(".pkeys") || n.includes(".pauthhistory"))).toBe(false);
      expect(zip.comment).toBe("cellport job=job-1");

      // Every entry of the store, in the store's order, with identical bytes.
      const entries = await store.exportEntries("c1");
      expect(zip.names.slice(1)).toEqual(entries.map((e) => e.name));
      for (const entry of entries) {
        if (entry.directory) continue;
        expect(zip.files.get(entry.name)?.equals(await buffer(entry.open())), entry.name).toBe(true);
      }

      const { stream, stat } = await store.snapshots.open("c1", "snap.zip");
      const bytes = await buffer(stream);
      expect(result.size).toBe(bytes.length);
      expect(result.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(stat.sha256).toBe(result.sha256);
      expect(result.entries).toBe(zip.names.length);

      expect(progress.at(-1)).toBe(100);
      for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1] ?? -1);
      expect(await findTempFiles(fixture.dataDir)).toEqual([]);
    },
  );

  it("weights progress by bytes, so one big file moves it", async () => {
    const { store } = fixture;
    await seedCell(store, "c1", { bigFileBytes: 4_000_000 });
    const progress: number[] = [];
    await runExport({
      store,
      cell: "c1",
      name: "snap",
      unitUrl: "http://x/",
      attemptKey: "a",
      onProgress: (p) => void progress.push(p),
      progressIntervalMs: 0,
    });
    // The big file is nearly all the bytes: intermediate whole percents are reported while it streams.
    expect(progress.filter((p) => p > 0 && p < 100).length).toBeGreaterThan(10);
  });

  it("cancelled mid-stream: rejects, publishes nothing and leaves no temp file", async () => {
    const { store } = fixture;
    await seedCell(store, "c1", { bigFileBytes: 8_000_000 });
    const controller = new AbortController();
    const attempt = runExport({
      store,
      cell: "c1",
      name: "snap",
      unitUrl: "http://x/",
      attemptKey: "a",
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p >= 5) controller.abort(new Error("cancelled by test"));
      },
    });
    await expect(attempt).rejects.toThrow();
    expect(controller.signal.aborted).toBe(true);
    expect(await store.snapshots.stat("c1", "snap.zip")).toBeNull();
    expect(await findTempFiles(fixture.dataDir)).toEqual([]);
  });

  it("fails for a cell that does not exist, without leaving anything", async () => {
    await expect(
      runExport({ store: fixture.store, cell: "nope", name: "snap", unitUrl: "http://x/", attemptKey: "a" }),
    ).rejects.toThrow();
    expect(await findTempFiles(fixture.dataDir)).toEqual([]);
  });

  it("fails when a file disappears mid-export, and removes its temp file", async () => {
    const { store } = fixture;
    await seedCell(store, "c1");
    const real = store.exportEntries.bind(store);
    const broken = {
      ...store,
      snapshots: store.snapshots,
      async exportEntries(cell: string) {
        const entries = await real(cell);
        return entries.map((e) =>
          e.name.endsWith("big.bin/content")
            ? {
                ...e,
                open: () => {
                  throw new Error("EIO: simulated read failure");
                },
              }
            : e,
        );
      },
    };
    await expect(
      runExport({ store: broken, cell: "c1", name: "snap", unitUrl: "http://x/", attemptKey: "a" }),
    ).rejects.toThrow(/EIO/);
    expect(await store.snapshots.stat("c1", "snap.zip")).toBeNull();
    expect(await findTempFiles(fixture.dataDir)).toEqual([]);
  });

  it("reads small files whole and streams big ones: the same zip content as streaming them all", async () => {
    const { store } = fixture;
    await seedCell(store, "c1");
    await store.putFile("c1", "__/docs/mid.txt", Readable.from([Buffer.alloc(20_000, "m")]));
    const entries = await store.exportEntries("c1");
    expect(entries.some((e) => !e.directory && e.size > READ_WHOLE_MAX_BYTES)).toBe(true);
    expect(entries.some((e) => !e.directory && e.size <= READ_WHOLE_MAX_BYTES && e.size > 1024)).toBe(true);
    const now = () => new Date("2024-05-06T07:08:09.000Z");
    const common = { cell: "c1", unitUrl: "http://x/", comment: "job", now };
    await runExport({ ...common, store, name: "whole", attemptKey: "a" });
    await runExport({ ...common, store: streamOnlyStore(store), name: "streamed", attemptKey: "b" });

    const whole = await readSnapshotZip(store, "c1", "whole");
    const streamed = await readSnapshotZip(store, "c1", "streamed");
    expect(whole.names).toEqual(streamed.names);
    expect(whole.names.slice(1)).toEqual(entries.map((e) => e.name));
    for (const [name, data] of streamed.files) expect(whole.files.get(name)?.equals(data), name).toBe(true);

    // The importer's validating reader (names, sizes, CRC-32 of every entry) takes it whole.
    const source = await snapshotAreaSource(store.snapshots, "c1", "whole.zip");
    if (!source) throw new Error("whole.zip is missing");
    let contentBytes = 0;
    for await (const item of readSnapshot(source)) {
      if (item.kind === "tree-content") contentBytes += (await buffer(item.body)).length;
      if (item.kind === "entities") for await (const _ of item.documents);
    }
    const contents = entries.filter((e) => e.name.endsWith("/content"));
    expect(contentBytes).toBe(contents.reduce((sum, e) => sum + e.size, 0));
  });

  it("adds a cell of many entries batch by batch, every one of them and in order", async () => {
    const { store } = fixture;
    await seedCell(store, "c1");
    const listed = await store.exportEntries("c1");
    // More than two batches of small files, after the cell's own entries.
    const extra: ExportEntry[] = Array.from({ length: 4_500 }, (_, i) => {
      const data = Buffer.from(`file ${i}`);
      return {
        name: `20_webdav/__/f${String(i).padStart(5, "0")}.txt`,
        size: data.length,
        directory: false,
        mtime: new Date("2024-01-02T03:04:05.000Z"),
        open: () => Readable.from([data]),
        read: async () => data,
      };
    });
    const many: CellStore = {
      ...store,
      snapshots: store.snapshots,
      exportEntries: async () => [...listed, ...extra],
    };
    const result = await runExport({
      store: many,
      cell: "c1",
      name: "many",
      unitUrl: "http://x/",
      attemptKey: "a",
    });
    expect(result.entries).toBe(listed.length + extra.length + 1);
    const zip = await readSnapshotZip(store, "c1", "many");
    expect(zip.names).toEqual([MANIFEST_ENTRY, ...listed.map((e) => e.name), ...extra.map((e) => e.name)]);
    expect(zip.files.get("20_webdav/__/f04499.txt")?.toString()).toBe("file 4499");
  });

  it("runs on the patched yazl, whose search for the next entry resumes where it stopped", async () => {
    // patches/yazl@3.3.1.patch: without it, exporting ~100k entries takes twice as long.
    const zip = new yazl.ZipFile();
    for (const name of ["a", "b", "c"]) zip.addBuffer(Buffer.from(name), name);
    zip.end();
    await buffer(zip.outputStream);
    expect((zip as unknown as { firstNotDoneIndex?: number }).firstNotDoneIndex).toBe(3);
  });

  it("runs on the patched yazl, which writes a big central directory across turns of the event loop", async () => {
    // patches/yazl@3.3.1.patch: in one go, 100k entries' records blocked the loop ~200 ms.
    const zip = new yazl.ZipFile();
    for (let i = 0; i < 4_500; i++) zip.addBuffer(Buffer.alloc(0), `f${i}`, { compress: false });
    let turn = 0;
    let counting = true;
    const tick = () => {
      turn++;
      if (counting) setImmediate(tick);
    };
    tick();
    const turnsWithRecords = new Set<number>();
    const output = zip.outputStream as unknown as { write(chunk: unknown): boolean };
    const write = output.write.bind(output);
    output.write = (chunk) => {
      const centralRecord =
        Buffer.isBuffer(chunk) && chunk.length >= 4 && chunk.readUInt32LE(0) === 0x02014b50;
      if (centralRecord) turnsWithRecords.add(turn);
      return write(chunk);
    };
    zip.end();
    await buffer(zip.outputStream);
    counting = false;
    // 4,500 records in batches of 2,000: three turns.
    expect(turnsWithRecords.size).toBe(3);
  });

  it.each([
    ["zipped in memory", 2_000],
    ["streamed", IN_MEMORY_MAX_BYTES + 1],
  ])(
    "stores files in a compressed format as they are, deflates the others: %s",
    async (_how, bigFileBytes) => {
      const { store } = fixture;
      await seedCell(store, "c1", { bigFileBytes });
      // The same compressible bytes under both names: the name decides, as with `zip -n`.
      const text = Buffer.from("a line of text that deflate would shrink\n".repeat(500));
      await store.putFile("c1", "__/docs/photo.JPG", Readable.from([text]));
      await store.putFile("c1", "__/docs/notes.txt", Readable.from([text]));
      await runExport({ store, cell: "c1", name: "snap", unitUrl: "http://x/", attemptKey: "a" });
      const zip = await readSnapshotZip(store, "c1", "snap");
      expect(zip.methods.get("20_webdav/__/docs/photo.JPG/content")).toBe(0);
      expect(zip.methods.get("20_webdav/__/docs/notes.txt/content")).toBe(8);
      expect(zip.files.get("20_webdav/__/docs/photo.JPG/content")?.equals(text)).toBe(true);
      expect(zip.methods.get("20_webdav/__/docs/photo.JPG/.pmeta")).toBe(0);
    },
  );

  it("fails a small cell's export when a file read whole has changed size, and leaves nothing", async () => {
    const { store, dataDir } = fixture;
    await seedCell(store, "c1", { bigFileBytes: 2_000 });
    const shrinking: CellStore = {
      ...store,
      snapshots: store.snapshots,
      async exportEntries(cell) {
        return (await store.exportEntries(cell)).map(({ read, takeContent, ...entry }) =>
          entry.name.endsWith("big.bin/content")
            ? { ...entry, open: () => Readable.from([Buffer.alloc(entry.size - 1)]) }
            : { ...entry, ...(read ? { read } : {}), ...(takeContent ? { takeContent } : {}) },
        );
      },
    };
    await expect(
      runExport({ store: shrinking, cell: "c1", name: "snap", unitUrl: "http://x/", attemptKey: "a" }),
    ).rejects.toThrow(/expected 2000 bytes, found 1999 bytes/);
    expect(await store.snapshots.stat("c1", "snap.zip")).toBeNull();
    expect(await findTempFiles(dataDir)).toEqual([]);
  });

  // (A small file comes with the listing, so it cannot change in between: fs-store.test.ts.)
  describe.each([
    ["a streamed file that grew", "__/big.bin", (file: string) => appendFile(file, "more")],
    ["a streamed file that shrank", "__/big.bin", (file: string) => truncate(file, 1000)],
  ])("%s after it was listed", (_what, treePath, change) => {
    it("fails the export, publishes nothing and leaves no temp file", async () => {
      const { store, dataDir } = fixture;
      await seedCell(store, "c1");
      const file = path.join(dataDir, "cells", "c1", "current", "20_webdav", treePath, "content");
      const changing: CellStore = {
        ...store,
        snapshots: store.snapshots,
        async exportEntries(cell) {
          const entries = await store.exportEntries(cell);
          await change(file);
          return entries;
        },
      };
      await expect(
        runExport({ store: changing, cell: "c1", name: "snap", unitUrl: "http://x/", attemptKey: "a" }),
      ).rejects.toThrow(/bytes/);
      expect(await store.snapshots.stat("c1", "snap.zip")).toBeNull();
      expect(await findTempFiles(dataDir)).toEqual([]);
    });
  });

  it.each([
    ["tiny content that came with the listing is added as it is", true],
    ["without it, tiny files are read whole too", false],
  ])(
    "%s; small files are read whole, big ones stream, one file open at a time",
    async (_title, withContent) => {
      const { store } = fixture;
      await seedCell(store, "c1");
      await store.putFile("c1", "__/docs/big2.bin", Readable.from([Buffer.alloc(500_000, 2)]));
      await store.putFile("c1", "__/docs/sub/big3.bin", Readable.from([Buffer.alloc(200_000, 3)]));
      await store.putFile("c1", "__/docs/mid.txt", Readable.from([Buffer.alloc(10_000, 4)]));
      let open = 0;
      let mostOpen = 0;
      const how = new Map<string, "memory" | "read" | "open">();
      const opened = (entry: ExportEntry, way: "read" | "open") => {
        how.set(entry.name, way);
        open++;
        mostOpen = Math.max(mostOpen, open);
      };
      const counting: CellStore = {
        ...store,
        snapshots: store.snapshots,
        async exportEntries(cell) {
          return (await store.exportEntries(cell)).map((entry) => {
            const { read, takeContent, ...rest } = entry;
            const counted: ExportEntry = {
              ...rest,
              open: () => {
                opened(entry, "open");
                return entry.open().once("close", () => open--);
              },
            };
            if (read) {
              counted.read = async () => {
                opened(entry, "read");
                try {
                  return await read.call(entry);
                } finally {
                  open--;
                }
              };
            }
            if (takeContent && withContent) {
              counted.takeContent = () => {
                const content = takeContent.call(entry);
                if (content) how.set(entry.name, "memory");
                return content;
              };
            }
            return counted;
          });
        },
      };
      await runExport({ store: counting, cell: "c1", name: "snap", unitUrl: "http://x/", attemptKey: "a" });
      expect(mostOpen).toBe(1);
      expect(open).toBe(0);
      const files = (await store.exportEntries("c1")).filter((e) => !e.directory);
      const way = (size: number) =>
        size > READ_WHOLE_MAX_BYTES ? "open" : size <= STORE_BELOW_BYTES && withContent ? "memory" : "read";
      expect(files.some((file) => file.size <= STORE_BELOW_BYTES)).toBe(true);
      expect(files.some((file) => file.size > STORE_BELOW_BYTES && file.size <= READ_WHOLE_MAX_BYTES)).toBe(
        true,
      );
      for (const file of files) expect(how.get(file.name), file.name).toBe(way(file.size));
    },
  );
});
