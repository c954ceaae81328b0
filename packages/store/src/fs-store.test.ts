import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { body, readAll, runStoreConformance } from "./conformance.ts";
import { CellExistsError, CellNotFoundError, ConflictError } from "./errors.ts";
import { PREFETCH } from "./fs-export.ts";
import { TOUCH_INTERVAL_MS } from "./fs-replace.ts";
import { createFsStore } from "./fs-store.ts";
import { syncDirectory } from "./fs-util.ts";
import type { CellStore } from "./port.ts";
import { describedByFile } from "./snapshot-sidecar.ts";

async function tempDataDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "cellport-store-"));
}

function generationOf(dataDir: string, cell: string): Promise<string> {
  return readlink(path.join(dataDir, "cells", cell, "current")).then((g) =>
    path.join(dataDir, "cells", cell, g),
  );
}

/** The data dir rides along on the store object so the hook can reach into the layout. */
type StoreWithDir = CellStore & { dataDir: string };

function fixture(durable: boolean) {
  return async () => {
    const dataDir = await tempDataDir();
    const store: StoreWithDir = Object.assign(createFsStore({ dataDir, durable }), { dataDir });
    return { store, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
  };
}

const hooks = {
  // Personium keeps keys at the root of the cell's file tree: the walk must skip them there too.
  async plantInternalData(store: CellStore, cell: string) {
    const root = path.join(await generationOf((store as StoreWithDir).dataDir, cell), "20_webdav");
    await mkdir(path.join(root, ".pkeys"), { recursive: true });
    await writeFile(path.join(root, ".pkeys", "key.pem"), "secret");
    await mkdir(path.join(root, ".pauthhistory"), { recursive: true });
    await writeFile(path.join(root, ".pauthhistory", "last"), "{}");
  },
};

runStoreConformance("fs (durable)", fixture(true), hooks);
runStoreConformance("fs (not durable)", fixture(false), hooks);

describe("fs store on disk", () => {
  let dataDir: string;
  let store: CellStore;

  beforeEach(async () => {
    dataDir = await tempDataDir();
    store = createFsStore({ dataDir, durable: false });
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("lays a cell out as documented in fs-layout.ts", async () => {
    await store.createCell("c1");
    await store.mkcol("c1", "__/docs");
    await store.putFile("c1", "__/docs/a.txt", body("abc"), { contentType: "text/plain" });
    await store.snapshots.put("c1", "s.zip", body("zip"));
    const cellDir = path.join(dataDir, "cells", "c1");
    expect((await lstat(path.join(cellDir, "current"))).isSymbolicLink()).toBe(true);
    const generation = await readlink(path.join(cellDir, "current"));
    expect(generation).toMatch(/^gen-[0-9a-f-]{36}$/);
    const gen = path.join(cellDir, generation);
    expect((await readdir(path.join(gen, "10_odata"))).sort()).toHaveLength(17);
    const fileDir = path.join(gen, "20_webdav", "__", "docs", "a.txt");
    expect((await readdir(fileDir)).sort()).toEqual([".pmeta", "content"]);
    expect(await readFile(path.join(fileDir, "content"), "utf8")).toBe("abc");
    const meta = JSON.parse(await readFile(path.join(fileDir, ".pmeta"), "utf8"));
    expect(Object.keys(meta)).toEqual(["i", "t", "a", "d", "p", "u", "ct", "cl", "et", "v"]);
    expect(meta).toMatchObject({ t: "dav.file", ct: "text/plain", cl: 3, et: "NONE", v: 1 });
    expect(JSON.parse(await readFile(path.join(gen, "20_webdav", ".pmeta"), "utf8"))).toMatchObject({
      t: "Cell",
      cs: "normal",
    });
    expect((await readdir(path.join(cellDir, "snapshots"))).sort()).toEqual([".meta", ".tmp", "s.zip"]);
    const sidecar = JSON.parse(await readFile(path.join(cellDir, "snapshots", ".meta", "s.zip"), "utf8"));
    expect(sidecar).toMatchObject({ version: 1, size: 3, contentType: "application/zip" });
    expect(sidecar.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("describes a first version the same without its sidecar (which a publish does not fsync), but for its sha256", async () => {
    await store.createCell("c1");
    const sidecarOf = (name: string) => path.join(dataDir, "cells", "c1", "snapshots", ".meta", name);
    await store.snapshots.put("c1", "s.zip", body("zip"));
    const recorded = await store.snapshots.stat("c1", "s.zip");
    expect(recorded?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(describedByFile("s.zip", JSON.parse(await readFile(sidecarOf("s.zip"), "utf8")))).toBe(true);

    // What a power loss right after the publish may leave: the file, synced, without its sidecar.
    await rm(sidecarOf("s.zip"));
    const { sha256: _lost, created: _created, ...kept } = recorded ?? {};
    expect(await store.snapshots.stat("c1", "s.zip")).toMatchObject(kept);

    // Sidecars the file cannot stand in for (so both are synced): a second version's holds its
    // version number, and one of a type other than the name's guess holds that type.
    await store.snapshots.put("c1", "s.zip", body("zip 2"));
    expect(describedByFile("s.zip", JSON.parse(await readFile(sidecarOf("s.zip"), "utf8")))).toBe(false);
    await store.snapshots.put("c1", "t.zip", body("zip"), { contentType: "application/x-other" });
    expect(describedByFile("t.zip", JSON.parse(await readFile(sidecarOf("t.zip"), "utf8")))).toBe(false);
  });

  it("lets exactly one of two processes' stores create a cell", async () => {
    const other = createFsStore({ dataDir, durable: false });
    const results = await Promise.allSettled([
      ...Array.from({ length: 4 }, () => store.createCell("shared")),
      ...Array.from({ length: 4 }, () => other.createCell("shared")),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(
      results.filter((r) => r.status === "rejected" && r.reason instanceof CellExistsError),
    ).toHaveLength(7);
    expect(await readdir(path.join(dataDir, ".staging"))).toEqual([]);
  });

  it("never writes outside the data directory for hostile names", async () => {
    const parent = path.dirname(dataDir);
    const before = new Set(await readdir(parent));
    await store.createCell("c1");
    for (const bad of ["../../escape", "__/../../../escape", "/tmp/escape"]) {
      await store.putFile("c1", bad, body("x")).catch(() => undefined);
      await store.mkcol("c1", bad).catch(() => undefined);
    }
    await store.snapshots.put("c1", "../escape", body("x")).catch(() => undefined);
    const added = (await readdir(parent)).filter((n) => !before.has(n) && n.includes("escape"));
    expect(added).toEqual([]);
  });

  it("serves the content whole when a writer died between its two renames", async () => {
    await store.createCell("c1");
    await store.putFile("c1", "__/f", body("old"));
    const content = path.join(await generationOf(dataDir, "c1"), "20_webdav", "__", "f", "content");
    // The new content is in place but its .pmeta was never written.
    await writeFile(content, "newer bytes");
    const stat = await store.stat("c1", "__/f");
    expect(stat?.size).toBe(11);
    expect(stat?.meta.cl).toBe(11);
    const opened = await store.openFile("c1", "__/f");
    expect((await readAll(opened.stream)).toString()).toBe("newer bytes");
    // The next write puts the pair right again.
    await store.putFile("c1", "__/f", body("fixed"));
    expect((await store.stat("c1", "__/f"))?.meta).toMatchObject({ cl: 5, v: 2 });
  });

  it("refuses to read whole a listed file, too big to come with the listing, that grew or shrank since", async () => {
    await store.createCell("c1");
    const listed = "x".repeat(PREFETCH.maxFileBytes + 1);
    await store.putFile("c1", "__/f", body(listed));
    const content = path.join(await generationOf(dataDir, "c1"), "20_webdav", "__", "f", "content");
    const entry = (await store.exportEntries("c1")).find((e) => e.name === "20_webdav/__/f/content");
    expect(entry?.size).toBe(listed.length);
    expect((await entry?.read?.())?.toString()).toBe(listed);
    for (const changed of [`${listed}6`, listed.slice(1), ""]) {
      await writeFile(content, changed);
      await expect(entry?.read?.()).rejects.toBeInstanceOf(ConflictError);
    }
    await rm(content);
    await expect(entry?.read?.()).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("lists small files with their content, served once to read() or open() as listed", async () => {
    await store.createCell("c1");
    await store.putFile("c1", "__/a", body("12345"));
    await store.putFile("c1", "__/b", body("67890"));
    const entries = await store.exportEntries("c1");
    const [a, b] = ["a", "b"].map((f) => entries.find((e) => e.name === `20_webdav/__/${f}/content`));
    // Taken with the listing: a change afterwards (never while the cell is locked) does not tear it.
    const webdav = path.join(await generationOf(dataDir, "c1"), "20_webdav", "__");
    for (const f of ["a", "b"]) await writeFile(path.join(webdav, f, "content"), "1");
    expect([a?.size, b?.size]).toEqual([5, 5]);
    expect((await a?.read?.())?.toString()).toBe("12345");
    expect((await readAll(b?.open() ?? Readable.from([]))).toString()).toBe("67890");
    // Then let go: a second read goes to the file, and notices the change.
    await expect(a?.read?.()).rejects.toBeInstanceOf(ConflictError);
  });

  it("brings at most its budget of content with a listing; the rest is read when asked for", async () => {
    await store.createCell("c1");
    const perFile = PREFETCH.maxFileBytes;
    const count = Math.floor(PREFETCH.budgetBytes / perFile) + 2;
    for (let i = 0; i < count; i++) await store.putFile("c1", `__/f${i}`, body("y".repeat(perFile)));
    const files = (await store.exportEntries("c1")).filter((e) =>
      /^20_webdav\/__\/f\d+\/content$/.test(e.name),
    );
    const generation = await generationOf(dataDir, "c1");
    for (let i = 0; i < count; i++)
      await writeFile(path.join(generation, "20_webdav", "__", `f${i}`, "content"), "z");
    // Listed with their content: as they were. Read later: the change is caught.
    const outcomes = await Promise.all(
      files.map((e) =>
        (e.read?.() ?? Promise.reject(new Error("no read()"))).then(
          (b) => b.toString(),
          (e) => e,
        ),
      ),
    );
    const withListing = outcomes.filter((o) => o === "y".repeat(perFile)).length;
    const readLater = outcomes.filter((o) => o instanceof ConflictError).length;
    expect(withListing + readLater).toBe(count);
    expect(withListing).toBeGreaterThan(0);
    expect(withListing * perFile).toBeLessThanOrEqual(PREFETCH.budgetBytes);
    expect(readLater).toBeGreaterThanOrEqual(2);
  });

  it("sweeps only what is old: temp files, and sidecars whose file is gone", async () => {
    await store.createCell("c1");
    await store.snapshots.put("c1", "kept.zip", body("zip"));
    const area = path.join(dataDir, "cells", "c1", "snapshots");
    await writeFile(path.join(area, ".meta", "orphan.zip"), "{}");
    await writeFile(path.join(area, ".meta", "fresh-orphan.zip"), "{}");
    await writeFile(path.join(area, ".tmp", "dead.part"), "x");
    await writeFile(path.join(dataDir, "cells", "c1", "tmp", "dead-put"), "x");
    const hourAgo = new Date(Date.now() - 60 * 60 * 1000);
    for (const old of [
      path.join(area, ".meta", "orphan.zip"),
      path.join(area, ".meta", "kept.zip"),
      path.join(area, ".tmp", "dead.part"),
      path.join(dataDir, "cells", "c1", "tmp", "dead-put"),
    ]) {
      await utimes(old, hourAgo, hourAgo);
    }
    expect(await store.snapshots.sweepTemp("c1", 10 * 60 * 1000)).toBe(3);
    expect((await readdir(path.join(area, ".meta"))).sort()).toEqual(["fresh-orphan.zip", "kept.zip"]);
    expect(await readdir(path.join(area, ".tmp"))).toEqual([]);
    expect(await readdir(path.join(dataDir, "cells", "c1", "tmp"))).toEqual([]);
    expect((await store.snapshots.stat("c1", "kept.zip"))?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await store.snapshots.sweepTemp("c1", 10 * 60 * 1000)).toBe(0);
    await expect(store.snapshots.sweepTemp("nope", 1)).rejects.toBeInstanceOf(CellNotFoundError);
  });

  it("describes a snapshot file copied in by hand from the file itself", async () => {
    await store.createCell("c1");
    await writeFile(path.join(dataDir, "cells", "c1", "snapshots", "manual.zip"), "by hand");
    const [stat] = await store.snapshots.list("c1");
    expect(stat).toMatchObject({ name: "manual.zip", size: 7, contentType: "application/zip" });
    expect(stat?.etag).toMatch(/^"1-\d+"$/);
    expect(stat?.sha256).toBeUndefined();
  });

  it("sweeps crashed imports' generations once stale, never the live one", async () => {
    await store.createCell("c1");
    const cellDir = path.join(dataDir, "cells", "c1");
    const live = await readlink(path.join(cellDir, "current"));
    const stale = path.join(cellDir, "gen-stale");
    const young = path.join(cellDir, "gen-young");
    await mkdir(path.join(stale, "10_odata"), { recursive: true });
    await mkdir(young);
    const longAgo = new Date(Date.now() - 48 * 60 * 60 * 1000);
    await utimes(stale, longAgo, longAgo);
    await utimes(path.join(cellDir, live), longAgo, longAgo);
    expect(await store.snapshots.sweepTemp("c1", 60 * 60 * 1000)).toBe(1);
    const names = await readdir(cellDir);
    expect(names).toContain(live);
    expect(names).toContain("gen-young");
    expect(names).not.toContain("gen-stale");
  });

  it("sweeps a generation untouched for 10 minutes by default", async () => {
    await store.createCell("c1");
    const cellDir = path.join(dataDir, "cells", "c1");
    const twentyMinutesAgo = new Date(Date.now() - 20 * 60 * 1000);
    await mkdir(path.join(cellDir, "gen-killed"));
    await utimes(path.join(cellDir, "gen-killed"), twentyMinutesAgo, twentyMinutesAgo);
    expect(await store.snapshots.sweepTemp("c1", 60 * 60 * 1000)).toBe(1);
    expect(await readdir(cellDir)).not.toContain("gen-killed");
  });

  it("keeps an open replacement's staging young on a timer, however long its writes take", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      await store.createCell("c1");
      const cellDir = path.join(dataDir, "cells", "c1");
      const live = await readlink(path.join(cellDir, "current"));
      const replacement = await store.beginReplace("c1");
      const staging = (await readdir(cellDir)).find((name) => name.startsWith("gen-") && name !== live);
      if (!staging) throw new Error("no staging generation");
      // As if its one write had taken an hour: no touch since.
      const anHourAgo = new Date(Date.now() - 60 * 60 * 1000);
      await utimes(path.join(cellDir, staging), anHourAgo, anHourAgo);
      vi.advanceTimersByTime(TOUCH_INTERVAL_MS);
      // The timer's touch is an async utimes.
      for (let i = 0; i < 100; i++) {
        if ((await stat(path.join(cellDir, staging))).mtimeMs > anHourAgo.getTime()) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(await store.snapshots.sweepTemp("c1", 60 * 60 * 1000)).toBe(0);
      expect(await readdir(cellDir)).toContain(staging);
      await replacement.abort();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("removes the old generation on commit and the staging on abort", async () => {
    await store.createCell("c1");
    const cellDir = path.join(dataDir, "cells", "c1");
    const gens = async () => (await readdir(cellDir)).filter((n) => n.startsWith("gen-")).sort();
    const [first] = await gens();
    const aborted = await store.beginReplace("c1");
    expect((await gens()).length).toBe(2);
    await aborted.abort();
    expect(await gens()).toEqual([first]);
    const committed = await store.beginReplace("c1");
    await committed.writeCellDocument({ _id: "x", _source: { s: { Name: "c1" } } });
    await committed.commit();
    const after = await gens();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(first);
    expect(await readlink(path.join(cellDir, "current"))).toBe(after[0]);
  });

  it("deletes a cell by moving it out of sight first", async () => {
    await store.createCell("c1");
    await store.putFile("c1", "__/f", body("x"));
    await store.deleteCell("c1");
    await expect(stat(path.join(dataDir, "cells", "c1"))).rejects.toThrow();
    expect(await readdir(path.join(dataDir, ".trash"))).toEqual([]);
  });

  it("leaves no temp files behind after puts, refused puts and deletes", async () => {
    await store.createCell("c1");
    await store.putFile("c1", "__/a", body("a"));
    await store.putFile("c1", "__/a", body("b"));
    await store.putFile("c1", "__/b", body("x".repeat(100)), { maxBytes: 10 }).catch(() => undefined);
    await store.deleteResource("c1", "__/a");
    await store.snapshots.put("c1", "s.zip", body("s"));
    await store.snapshots.delete("c1", "s.zip");
    expect(await readdir(path.join(dataDir, "cells", "c1", "tmp"))).toEqual([]);
    expect(await readdir(path.join(dataDir, "cells", "c1", "snapshots", ".tmp"))).toEqual([]);
    expect(await readdir(path.join(dataDir, "cells", "c1", "snapshots", ".meta"))).toEqual([]);
  });
});

describe("syncDirectory", () => {
  it("fsyncs a directory and reports a missing one", async () => {
    const dir = await tempDataDir();
    try {
      await expect(syncDirectory(dir)).resolves.toBeUndefined();
      await expect(syncDirectory(path.join(dir, "missing"))).rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
