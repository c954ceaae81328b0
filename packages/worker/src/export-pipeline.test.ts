import { createHash } from "node:crypto";
import { buffer } from "node:stream/consumers";
import { CELL_DOCUMENT_ENTRY, ENTITY_TYPES, MANIFEST_ENTRY, pjsonEntry } from "@cellport/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runExport } from "./export-pipeline.ts";
import {
  createTempStore,
  findTempFiles,
  readSnapshotZip,
  seedCell,
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
  it("writes the §7 layout, byte for byte, and commits it with its size and sha256", async () => {
    const { store } = fixture;
    await seedCell(store, "c1");
    const progress: number[] = [];
    const created = new Date("2024-05-06T07:08:09.010Z");
    const result = await runExport({
      store,
      cell: "c1",
      name: "snap",
      unitUrl: "http://localhost:8080/",
      attemptKey: "job-1.1",
      onProgress: (p) => void progress.push(p),
      comment: "cellport job=job-1",
      now: () => created,
    });

    const zip = await readSnapshotZip(store, "c1", "snap");
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
  });

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
});
