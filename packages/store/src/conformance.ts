/**
 * One conformance suite for every CellStore adapter (unstorage's habit): the same
 * cases run against the file-system adapter on real disk and against any future
 * adapter. `makeStore` returns a fresh, empty store and a cleanup.
 *
 * Import it from `@cellport/store/conformance` inside a vitest test file.
 */
import { createHash } from "node:crypto";
import { stat, writeFile } from "node:fs/promises";
import { PassThrough, Readable } from "node:stream";
import {
  CELL_DOCUMENT_ENTRY,
  ENTITY_TYPES,
  type EntityDocument,
  type EntityType,
  ODATA_DIR,
  pjsonEntry,
  WEBDAV_DIR,
} from "@cellport/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  CellExistsError,
  CellNotFoundError,
  ConflictError,
  InvalidNameError,
  InvalidPathError,
  NotFoundError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
  TooLargeError,
} from "./errors.ts";
import type { CellStore, ExportEntry } from "./port.ts";

export interface StoreFixture {
  store: CellStore;
  cleanup(): Promise<void>;
}

export interface ConformanceHooks {
  /** Puts cell keys / auth history wherever the adapter might hold them, for the export-exclusion case. */
  plantInternalData?(store: CellStore, cell: string): Promise<void>;
}

const ETAG = /^"\d+-\d+"$/;

export function body(data: string | Buffer): Readable {
  return Readable.from([Buffer.isBuffer(data) ? data : Buffer.from(data)]);
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function entity(type: EntityType, id: string, extra: Record<string, unknown> = {}): EntityDocument {
  return {
    _index: "u0_ad",
    _type: type,
    _id: id,
    _source: { c: "cellid", b: null, n: null, s: { Name: id }, d: {}, h: {}, l: [], p: 1, u: 2, ...extra },
  };
}

function sha(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Names, sizes and bytes of every export entry: a fingerprint of a cell's content. */
async function fingerprint(store: CellStore, cell: string): Promise<string[]> {
  const entries = await store.exportEntries(cell);
  const out: string[] = [];
  for (const e of entries)
    out.push(`${e.name} ${e.size} ${e.directory ? "-" : sha(await readAll(e.open()))}`);
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const TRAVERSALS = [
  "",
  ".",
  "..",
  "../x",
  "__/../x",
  "__/a/../../b",
  "__/./a",
  "/etc/passwd",
  "/__/a",
  "__\\a",
  "..\\..\\x",
  "__/a\u0000b",
  "__/a\nb",
  "__//a",
  "__/.pmeta",
  "__/a/.pmeta",
  ".pkeys",
  ".pkeys/x",
  ".pauthhistory/y",
];

const BAD_SNAPSHOT_NAMES = [
  "",
  ".",
  "..",
  "../x",
  "a/b",
  "a\\b",
  "/abs",
  "a\u0000b",
  "a\tb",
  ".meta",
  ".tmp",
];

export function runStoreConformance(
  name: string,
  makeStore: () => Promise<StoreFixture>,
  hooks: ConformanceHooks = {},
): void {
  describe(`CellStore conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let store: CellStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe("cells", () => {
      it("creates, gets, lists and deletes cells", async () => {
        const created = await store.createCell("c1");
        expect(created.name).toBe("c1");
        expect(created.id).toMatch(/^[0-9a-f]{32}$/);
        expect(created.published).toBeGreaterThan(0);
        expect(created.updated).toBeGreaterThanOrEqual(created.published);
        await store.createCell("a-0");
        expect(await store.listCells()).toEqual(["a-0", "c1"]);
        expect(await store.hasCell("c1")).toBe(true);
        const got = await store.getCell("c1");
        expect(got?.id).toBe(created.id);
        expect(got?.raw).toEqual(created.raw);
        await store.deleteCell("c1");
        expect(await store.getCell("c1")).toBeNull();
        expect(await store.hasCell("c1")).toBe(false);
        expect(await store.listCells()).toEqual(["a-0"]);
      });

      it("keeps the cell document Personium-shaped", async () => {
        const created = await store.createCell("c1");
        expect(created.raw).toMatchObject({ _type: "Cell", _id: created.id, _source: { s: { Name: "c1" } } });
        const source = created.raw._source as Record<string, unknown>;
        expect(source.p).toBe(created.published);
        expect(source.u).toBe(created.updated);
      });

      it("refuses a duplicate and bad names", async () => {
        await store.createCell("c1");
        await expect(store.createCell("c1")).rejects.toBeInstanceOf(CellExistsError);
        for (const bad of ["", "A", "-a", "a_b", "a/b", "../a", "a\u0000", "a".repeat(129)]) {
          await expect(store.createCell(bad), bad).rejects.toBeInstanceOf(InvalidNameError);
          await expect(store.getCell(bad), bad).rejects.toBeInstanceOf(InvalidNameError);
        }
      });

      it("lets exactly one of many concurrent creates win", async () => {
        const results = await Promise.allSettled(Array.from({ length: 8 }, () => store.createCell("race")));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results) {
          if (r.status === "rejected") expect(r.reason).toBeInstanceOf(CellExistsError);
        }
        expect(await store.listCells()).toEqual(["race"]);
      });

      it("reports a missing cell", async () => {
        expect(await store.getCell("nope")).toBeNull();
        expect(await store.hasCell("nope")).toBe(false);
        await expect(store.deleteCell("nope")).rejects.toBeInstanceOf(CellNotFoundError);
        await expect(store.stat("nope", "__")).rejects.toBeInstanceOf(CellNotFoundError);
        await expect(store.putFile("nope", "__/a", body("x"))).rejects.toBeInstanceOf(CellNotFoundError);
        await expect(store.exportEntries("nope")).rejects.toBeInstanceOf(CellNotFoundError);
        await expect(store.beginReplace("nope")).rejects.toBeInstanceOf(CellNotFoundError);
        await expect(store.appendEntities("nope", "Box", [])).rejects.toBeInstanceOf(CellNotFoundError);
        await expect(store.snapshots.list("nope")).rejects.toBeInstanceOf(CellNotFoundError);
        await expect(store.snapshots.put("nope", "a.zip", body("x"))).rejects.toBeInstanceOf(
          CellNotFoundError,
        );
        await expect(store.snapshots.delete("nope", "a.zip")).rejects.toBeInstanceOf(CellNotFoundError);
      });

      it("removes a cell's snapshots and files with it", async () => {
        await store.createCell("c1");
        await store.snapshots.put("c1", "old.zip", body("zip"));
        await store.putFile("c1", "__/a.txt", body("a"));
        await store.deleteCell("c1");
        await store.createCell("c1");
        expect(await store.snapshots.list("c1")).toEqual([]);
        expect(await store.stat("c1", "__/a.txt")).toBeNull();
      });
    });

    describe("entities", () => {
      it("appends and reads back every type in order", async () => {
        await store.createCell("c1");
        for (const { type } of ENTITY_TYPES) {
          await store.appendEntities("c1", type, [entity(type, `${type}-1`), entity(type, `${type}-2`)]);
          await store.appendEntities(
            "c1",
            type,
            (async function* () {
              yield entity(type, `${type}-3`);
            })(),
          );
        }
        for (const { type } of ENTITY_TYPES) {
          const docs = await collect(store.readEntities("c1", type));
          expect(docs.map((d) => d._id)).toEqual([`${type}-1`, `${type}-2`, `${type}-3`]);
          expect(docs[0]).toEqual(entity(type, `${type}-1`));
        }
      });

      it("reads an empty type as empty and refuses a mismatched _type", async () => {
        await store.createCell("c1");
        expect(await collect(store.readEntities("c1", "Role"))).toEqual([]);
        await expect(store.appendEntities("c1", "Role", [entity("Account", "x")])).rejects.toThrow(/_type/);
      });
    });

    describe("file tree", () => {
      beforeEach(async () => {
        await store.createCell("c1");
      });

      it("starts with the main box as an empty col.box", async () => {
        const box = await store.stat("c1", "__");
        expect(box?.isCollection).toBe(true);
        expect(box?.meta.t).toBe("col.box");
        expect(box?.etag).toMatch(ETAG);
        expect(await store.list("c1", "__")).toEqual([]);
      });

      it("makes collections and lists children sorted, one level", async () => {
        const docs = await store.mkcol("c1", "__/docs");
        expect(docs).toMatchObject({ path: "__/docs", isCollection: true, size: 0 });
        expect(docs.meta.t).toBe("col.webdav");
        await store.mkcol("c1", "__/docs/sub");
        await store.putFile("c1", "__/docs/b.txt", body("bb"));
        await store.putFile("c1", "__/docs/a.txt", body("a"));
        await store.putFile("c1", "__/docs/sub/deep.txt", body("deep"));
        const children = await store.list("c1", "__/docs");
        expect(children.map((c) => c.path)).toEqual(["__/docs/a.txt", "__/docs/b.txt", "__/docs/sub"]);
        expect(children.map((c) => c.size)).toEqual([1, 2, 0]);
        expect((await store.list("c1", "__/docs/")).length).toBe(3);
        await expect(store.list("c1", "__/missing")).rejects.toBeInstanceOf(NotFoundError);
      });

      it("refuses mkcol over an existing resource or under a missing or file parent", async () => {
        await store.mkcol("c1", "__/docs");
        await expect(store.mkcol("c1", "__/docs")).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(store.mkcol("c1", "__")).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(store.mkcol("c1", "__/x/y")).rejects.toBeInstanceOf(ConflictError);
        await store.putFile("c1", "__/f", body("f"));
        await expect(store.mkcol("c1", "__/f")).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(store.mkcol("c1", "__/f/y")).rejects.toBeInstanceOf(ConflictError);
      });

      it("puts, replaces and reads files with ETags, versions and content types", async () => {
        const first = await store.putFile("c1", "__/a.txt", body("hello"), { contentType: "text/plain" });
        expect(first.created).toBe(true);
        expect(first.etag).toMatch(ETAG);
        const stat1 = await store.stat("c1", "__/a.txt");
        expect(stat1).toMatchObject({ path: "__/a.txt", size: 5, isCollection: false, etag: first.etag });
        expect(stat1?.meta).toMatchObject({ t: "dav.file", ct: "text/plain", cl: 5, v: 1, et: "NONE" });

        const second = await store.putFile("c1", "__/a.txt", body("hello, world"));
        expect(second.created).toBe(false);
        expect(second.etag).not.toBe(first.etag);
        const stat2 = await store.stat("c1", "__/a.txt");
        expect(stat2?.meta).toMatchObject({
          v: 2,
          cl: 12,
          ct: "text/plain",
          i: stat1?.meta.i,
          p: stat1?.meta.p,
        });
        expect(stat2?.etag).toBe(`"2-${stat2?.meta.u}"`);

        const opened = await store.openFile("c1", "__/a.txt");
        expect(opened.stat.etag).toBe(second.etag);
        expect((await readAll(opened.stream)).toString()).toBe("hello, world");
      });

      it("serves inclusive byte ranges", async () => {
        await store.putFile("c1", "__/r.bin", body("0123456789"));
        const part = await store.openFile("c1", "__/r.bin", { start: 2, end: 5 });
        expect((await readAll(part.stream)).toString()).toBe("2345");
        expect(part.stat.size).toBe(10);
        const tail = await store.openFile("c1", "__/r.bin", { start: 8, end: 100 });
        expect((await readAll(tail.stream)).toString()).toBe("89");
        await expect(store.openFile("c1", "__/r.bin", { start: 10, end: 12 })).rejects.toBeInstanceOf(
          RangeNotSatisfiableError,
        );
      });

      it("stores empty files", async () => {
        await store.putFile("c1", "__/empty", body(Buffer.alloc(0)));
        expect((await store.stat("c1", "__/empty"))?.size).toBe(0);
        expect((await readAll((await store.openFile("c1", "__/empty")).stream)).length).toBe(0);
      });

      it("honours If-Match on put and delete", async () => {
        await expect(store.putFile("c1", "__/a", body("x"), { ifMatch: "*" })).rejects.toBeInstanceOf(
          PreconditionFailedError,
        );
        const { etag } = await store.putFile("c1", "__/a", body("x"));
        await expect(store.putFile("c1", "__/a", body("y"), { ifMatch: '"9-9"' })).rejects.toBeInstanceOf(
          PreconditionFailedError,
        );
        expect((await readAll((await store.openFile("c1", "__/a")).stream)).toString()).toBe("x");
        const next = await store.putFile("c1", "__/a", body("y"), { ifMatch: etag });
        await store.putFile("c1", "__/a", body("z"), { ifMatch: "*" });
        await expect(store.deleteResource("c1", "__/a", { ifMatch: next.etag })).rejects.toBeInstanceOf(
          PreconditionFailedError,
        );
        const current = await store.stat("c1", "__/a");
        await store.deleteResource("c1", "__/a", { ifMatch: current?.etag ?? "" });
        expect(await store.stat("c1", "__/a")).toBeNull();
      });

      it("enforces maxBytes while streaming and leaves the old content", async () => {
        await store.putFile("c1", "__/big", body("small"));
        await expect(
          store.putFile("c1", "__/big", body(Buffer.alloc(10_000, 1)), { maxBytes: 9_999 }),
        ).rejects.toBeInstanceOf(TooLargeError);
        await expect(
          store.putFile("c1", "__/new", Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), {
            maxBytes: 1000,
          }),
        ).rejects.toBeInstanceOf(TooLargeError);
        expect((await readAll((await store.openFile("c1", "__/big")).stream)).toString()).toBe("small");
        expect(await store.stat("c1", "__/new")).toBeNull();
        expect((await store.list("c1", "__")).map((s) => s.path)).toEqual(["__/big"]);
        const exact = await store.putFile("c1", "__/exact", body(Buffer.alloc(1000)), { maxBytes: 1000 });
        expect(exact.created).toBe(true);
      });

      it("refuses a file over a collection, under a missing parent, or as a box", async () => {
        await store.mkcol("c1", "__/dir");
        await expect(store.putFile("c1", "__/dir", body("x"))).rejects.toBeInstanceOf(ConflictError);
        await expect(store.putFile("c1", "__/no/such", body("x"))).rejects.toBeInstanceOf(ConflictError);
        await store.putFile("c1", "__/file", body("x"));
        await expect(store.putFile("c1", "__/file/child", body("x"))).rejects.toBeInstanceOf(ConflictError);
        await expect(store.putFile("c1", "__", body("x"))).rejects.toBeInstanceOf(ConflictError);
        await expect(store.openFile("c1", "__/dir")).rejects.toBeInstanceOf(ConflictError);
        await expect(store.openFile("c1", "__/nothing")).rejects.toBeInstanceOf(NotFoundError);
      });

      it("deletes files and empty collections, not full ones or boxes", async () => {
        await store.mkcol("c1", "__/dir");
        await store.putFile("c1", "__/dir/f", body("x"));
        await expect(store.deleteResource("c1", "__/dir")).rejects.toBeInstanceOf(ConflictError);
        await store.deleteResource("c1", "__/dir/f");
        await store.deleteResource("c1", "__/dir");
        expect(await store.list("c1", "__")).toEqual([]);
        await expect(store.deleteResource("c1", "__/dir")).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.deleteResource("c1", "__")).rejects.toBeInstanceOf(ConflictError);
      });

      it("allows `content` as a collection child's name", async () => {
        await store.mkcol("c1", "__/content");
        await store.putFile("c1", "__/content/content", body("inner"));
        await store.putFile("c1", "__/x.txt", body("outer"));
        expect((await store.list("c1", "__/content")).map((s) => s.path)).toEqual(["__/content/content"]);
        expect((await readAll((await store.openFile("c1", "__/content/content")).stream)).toString()).toBe(
          "inner",
        );
      });

      it("refuses traversal and reserved names in every tree operation", async () => {
        for (const bad of TRAVERSALS) {
          await expect(store.stat("c1", bad), JSON.stringify(bad)).rejects.toBeInstanceOf(InvalidPathError);
          await expect(store.list("c1", bad), JSON.stringify(bad)).rejects.toBeInstanceOf(InvalidPathError);
          await expect(store.mkcol("c1", bad), JSON.stringify(bad)).rejects.toBeInstanceOf(InvalidPathError);
          await expect(store.putFile("c1", bad, body("x")), JSON.stringify(bad)).rejects.toBeInstanceOf(
            InvalidPathError,
          );
          await expect(store.openFile("c1", bad), JSON.stringify(bad)).rejects.toBeInstanceOf(
            InvalidPathError,
          );
          await expect(store.deleteResource("c1", bad), JSON.stringify(bad)).rejects.toBeInstanceOf(
            InvalidPathError,
          );
        }
        expect(await store.list("c1", "__")).toEqual([]);
      });

      it("never shows a reader half of a put in progress", async () => {
        const v1 = Buffer.alloc(64 * 1024, "a");
        const v1etag = (await store.putFile("c1", "__/slow.bin", body(v1))).etag;
        const slow = new PassThrough();
        const putting = store.putFile("c1", "__/slow.bin", slow);
        slow.write(Buffer.alloc(100 * 1024, "b"));
        await sleep(30);
        for (let i = 0; i < 3; i++) {
          const during = await store.openFile("c1", "__/slow.bin");
          expect(during.stat.etag).toBe(v1etag);
          expect((await readAll(during.stream)).equals(v1)).toBe(true);
          expect((await store.stat("c1", "__/slow.bin"))?.size).toBe(v1.length);
          slow.write(Buffer.alloc(1024, "b"));
          await sleep(5);
        }
        const newcomer = new PassThrough();
        const creating = store.putFile("c1", "__/fresh.bin", newcomer);
        newcomer.write("partial");
        await sleep(20);
        expect(await store.stat("c1", "__/fresh.bin")).toBeNull();
        expect((await store.list("c1", "__")).map((s) => s.path)).toEqual(["__/slow.bin"]);
        newcomer.end("-done");
        slow.end(Buffer.alloc(1, "c"));
        await Promise.all([putting, creating]);
        const after = await readAll((await store.openFile("c1", "__/slow.bin")).stream);
        expect(after.length).toBe(100 * 1024 + 3 * 1024 + 1);
        expect((await readAll((await store.openFile("c1", "__/fresh.bin")).stream)).toString()).toBe(
          "partial-done",
        );
      });

      it("pairs content and metadata under concurrent replaces", async () => {
        // Version i has length 1000 + 37 * i and starts with its own number.
        const version = (i: number) =>
          Buffer.concat([Buffer.from(`v${i}:`), Buffer.alloc(1000 + 37 * i, 120)]);
        await store.putFile("c1", "__/hot", body(version(0)));
        let writing = true;
        const writer = (async () => {
          for (let i = 1; i <= 30; i++) await store.putFile("c1", "__/hot", body(version(i)));
          writing = false;
        })();
        let reads = 0;
        while (writing || reads < 5) {
          const opened = await store.openFile("c1", "__/hot");
          const data = await readAll(opened.stream);
          const n = Number(/^v(\d+):/.exec(data.toString("latin1", 0, 8))?.[1]);
          expect(data.equals(version(n))).toBe(true);
          expect(opened.stat.size).toBe(data.length);
          expect(opened.stat.meta.cl).toBe(data.length);
          reads++;
        }
        await writer;
        expect((await store.stat("c1", "__/hot"))?.meta.v).toBe(31);
      });
    });

    describe("export entries", () => {
      beforeEach(async () => {
        await store.createCell("c1");
      });

      const FIXED_HEAD = [
        ODATA_DIR,
        CELL_DOCUMENT_ENTRY,
        ...ENTITY_TYPES.map((t) => pjsonEntry(t.file)),
        WEBDAV_DIR,
        `${WEBDAV_DIR}.pmeta`,
        `${WEBDAV_DIR}__/`,
        `${WEBDAV_DIR}__/.pmeta`,
      ];

      it("lists an empty cell in snapshot order, every pjson present and empty", async () => {
        const entries = await store.exportEntries("c1");
        expect(entries.map((e) => e.name)).toEqual(FIXED_HEAD);
        for (const e of entries) {
          if (e.name.endsWith(".pjson")) expect(e.size).toBe(0);
          expect(e.directory).toBe(e.name.endsWith("/"));
          expect(e.mtime).toBeInstanceOf(Date);
        }
        const cellDoc = JSON.parse((await readAll(entries[1]?.open() as Readable)).toString());
        expect(cellDoc._id).toBe((await store.getCell("c1"))?.id);
      });

      it("walks the tree sorted, parents first, with exact sizes and et NONE", async () => {
        await store.mkcol("c1", "__/b");
        await store.mkcol("c1", "__/a");
        await store.putFile("c1", "__/a/z.txt", body("zz"));
        await store.putFile("c1", "__/a/y.bin", body(Buffer.alloc(5000, 7)));
        await store.putFile("c1", "__/top.txt", body("top"));
        await store.appendEntities("c1", "Account", [entity("Account", "me")]);
        const entries = await store.exportEntries("c1");
        expect(entries.map((e) => e.name).slice(FIXED_HEAD.length)).toEqual([
          "20_webdav/__/a/",
          "20_webdav/__/a/.pmeta",
          "20_webdav/__/a/y.bin/",
          "20_webdav/__/a/y.bin/.pmeta",
          "20_webdav/__/a/y.bin/content",
          "20_webdav/__/a/z.txt/",
          "20_webdav/__/a/z.txt/.pmeta",
          "20_webdav/__/a/z.txt/content",
          "20_webdav/__/b/",
          "20_webdav/__/b/.pmeta",
          "20_webdav/__/top.txt/",
          "20_webdav/__/top.txt/.pmeta",
          "20_webdav/__/top.txt/content",
        ]);
        for (const e of entries) {
          const data = await readAll(e.open());
          expect(data.length, e.name).toBe(e.size);
          if (e.name.endsWith("/.pmeta")) expect(JSON.parse(data.toString()).et, e.name).toBe("NONE");
        }
        const account = entries.find((e) => e.name === pjsonEntry("11_account.pjson"));
        const lines = (await readAll(account?.open() as Readable)).toString();
        expect(lines.endsWith("\n")).toBe(true);
        expect(JSON.parse(lines.trim())).toEqual(entity("Account", "me"));
        const content = entries.find((e) => e.name === "20_webdav/__/a/y.bin/content");
        expect((await readAll(content?.open() as Readable)).equals(Buffer.alloc(5000, 7))).toBe(true);
        const meta = entries.find((e) => e.name === "20_webdav/__/a/y.bin/.pmeta");
        expect(JSON.parse((await readAll(meta?.open() as Readable)).toString())).toMatchObject({
          t: "dav.file",
          cl: 5000,
          v: 1,
        });
      });

      it("opens lazily", async () => {
        await store.putFile("c1", "__/late.txt", body("late"));
        const entries = await store.exportEntries("c1");
        const content = entries.find((e) => e.name === "20_webdav/__/late.txt/content") as ExportEntry;
        expect((await readAll(content.open())).toString()).toBe("late");
        expect((await readAll(content.open())).toString()).toBe("late");
      });

      it("reads an entry whole, when it can: the bytes open() gives, and never other than `size` bytes", async () => {
        await store.putFile("c1", "__/a.bin", body(Buffer.alloc(3000, 9)));
        await store.putFile("c1", "__/empty", body(""));
        await store.appendEntities("c1", "Account", [entity("Account", "me")]);
        const entries = await store.exportEntries("c1");
        for (const e of entries) {
          if (e.directory || !e.read) continue;
          const whole = await e.read();
          expect(whole.length, e.name).toBe(e.size);
          expect(whole.equals(await readAll(e.open())), e.name).toBe(true);
        }
        // Replaced after the listing with other bytes of another size: an adapter may
        // still serve the listed version, or refuse; never a size the entry did not announce.
        const stale = entries.find((e) => e.name === "20_webdav/__/a.bin/content") as ExportEntry;
        await store.putFile("c1", "__/a.bin", body("short now"));
        if (stale.read) {
          const outcome = await stale.read().then(
            (data) => data.length,
            (error: unknown) => error,
          );
          if (typeof outcome === "number") expect(outcome).toBe(stale.size);
          else expect(outcome).toBeInstanceOf(ConflictError);
        }
      });

      it("never includes cell keys, auth history or snapshots", async () => {
        await store.writeInternalFile?.("c1", ".pkeys", "key.pem", "secret");
        await store.writeInternalFile?.("c1", ".pauthhistory", "h1", "{}");
        await hooks.plantInternalData?.(store, "c1");
        await store.snapshots.put("c1", "s.zip", body("zip"));
        const names = (await store.exportEntries("c1")).map((e) => e.name);
        expect(names.filter((n) => /\.pkeys|\.pauthhistory|s\.zip|snapshot/.test(n))).toEqual([]);
        expect(names).toEqual(FIXED_HEAD);
      });
    });

    describe("replace (import staging)", () => {
      beforeEach(async () => {
        await store.createCell("c1");
        await store.mkcol("c1", "__/old");
        await store.putFile("c1", "__/old/file.txt", body("old content"));
        await store.appendEntities("c1", "Box", [entity("Box", "oldbox")]);
        await store.snapshots.put("c1", "keep.zip", body("keep"));
      });

      async function stageNew(cell: string) {
        const r = await store.beginReplace(cell);
        await r.writeCellDocument({
          _index: "u0_ad",
          _type: "Cell",
          _id: "newid",
          _source: { s: { Name: cell }, p: 1, u: 2 },
        });
        await r.writeEntities("Box", [entity("Box", "newbox")]);
        await r.writeTreeFile(
          ".pmeta",
          body(JSON.stringify({ i: "newid", t: "Cell", p: 1, u: 2, v: 1, cs: "normal" })),
        );
        await r.writeTreeFile(
          "__/.pmeta",
          body(JSON.stringify({ i: "newid", t: "col.box", p: 1, u: 2, v: 1 })),
        );
        await r.writeTreeFile(
          "__/new/.pmeta",
          body(JSON.stringify({ i: "n1", t: "col.webdav", p: 1, u: 2, v: 1 })),
        );
        // content before .pmeta, a wrong cl, an encrypted-looking et: all put right on the way in.
        await r.writeTreeFile("__/new/n.txt/content", body("new content"));
        await r.writeTreeFile(
          "__/new/n.txt/.pmeta",
          body(
            JSON.stringify({
              i: "n2",
              t: "dav.file",
              p: 1,
              u: 1700000000000,
              ct: "text/plain",
              cl: 3,
              et: "AES",
              v: 4,
            }),
          ),
        );
        return r;
      }

      it("keeps the cell untouched until commit, then swaps everything at once", async () => {
        const before = await fingerprint(store, "c1");
        const r = await stageNew("c1");
        expect(await fingerprint(store, "c1")).toEqual(before);
        await r.commit();
        expect(await store.stat("c1", "__/old/file.txt")).toBeNull();
        const stat = await store.stat("c1", "__/new/n.txt");
        expect(stat).toMatchObject({ size: 11, etag: '"4-1700000000000"' });
        expect(stat?.meta).toMatchObject({ cl: 11, et: "NONE", ct: "text/plain" });
        expect((await readAll((await store.openFile("c1", "__/new/n.txt")).stream)).toString()).toBe(
          "new content",
        );
        expect((await collect(store.readEntities("c1", "Box"))).map((d) => d._id)).toEqual(["newbox"]);
        expect((await collect(store.readEntities("c1", "Role"))).length).toBe(0);
        expect((await store.getCell("c1"))?.id).toBe("newid");
        expect((await store.snapshots.list("c1")).map((s) => s.name)).toEqual(["keep.zip"]);
        const names = (await store.exportEntries("c1")).map((e) => e.name);
        expect(names).toContain(pjsonEntry("80_link.pjson"));
        await expect(r.commit()).rejects.toBeInstanceOf(ConflictError);
      });

      it("leaves the cell exactly as before on abort", async () => {
        const before = await fingerprint(store, "c1");
        const r = await stageNew("c1");
        await r.abort();
        await r.abort();
        expect(await fingerprint(store, "c1")).toEqual(before);
        await expect(r.writeEntities("Box", [])).rejects.toBeInstanceOf(ConflictError);
      });

      it("fills in what an import did not carry, and refuses one without a cell document", async () => {
        const bare = await store.beginReplace("c1");
        await expect(bare.commit()).rejects.toThrow(/cell document/);
        await bare.abort();
        const minimal = await store.beginReplace("c1");
        await minimal.writeCellDocument({ _id: "x", _source: { s: { Name: "c1" } } });
        await minimal.commit();
        // Personium: the main box id is the cell id.
        expect((await store.stat("c1", "__"))?.meta.i).toBe("x");
        expect((await store.exportEntries("c1")).map((e) => e.name)).toEqual([
          ODATA_DIR,
          CELL_DOCUMENT_ENTRY,
          ...ENTITY_TYPES.map((t) => pjsonEntry(t.file)),
          WEBDAV_DIR,
          `${WEBDAV_DIR}.pmeta`,
          `${WEBDAV_DIR}__/`,
          `${WEBDAV_DIR}__/.pmeta`,
        ]);
      });

      it("takes tree files written in parallel, a resource's two files in either order", async () => {
        const r = await store.beginReplace("c1");
        await r.writeCellDocument({ _id: "p", _source: { s: { Name: "c1" } } });
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => [
            r.writeTreeFile(
              `__/f${i}/.pmeta`,
              body(
                JSON.stringify({
                  i: `n${i}`,
                  t: "dav.file",
                  p: 1,
                  u: 1000 + i,
                  ct: "text/plain",
                  cl: 0,
                  v: 1,
                }),
              ),
            ),
            r.writeTreeFile(`__/f${i}/content`, body(`file ${i}`.repeat(i + 1))),
          ]).flat(),
        );
        await expect(r.writeTreeFile("__/f0/content", body("again"))).rejects.toBeInstanceOf(ConflictError);
        await r.commit();
        for (let i = 0; i < 20; i++) {
          const opened = await store.openFile("c1", `__/f${i}`);
          expect(opened.stat).toMatchObject({ size: `file ${i}`.length * (i + 1), etag: `"1-${1000 + i}"` });
          expect((await readAll(opened.stream)).toString()).toBe(`file ${i}`.repeat(i + 1));
        }
      });

      it("refuses unsafe tree paths and skips cell keys", async () => {
        const r = await store.beginReplace("c1");
        for (const bad of [
          "../x/.pmeta",
          "/abs/.pmeta",
          "__/../../.pmeta",
          "__\\a/.pmeta",
          "__/a/other",
          "content",
          "",
          "__//.pmeta",
        ]) {
          await expect(r.writeTreeFile(bad, body("{}")), bad).rejects.toBeInstanceOf(InvalidPathError);
        }
        await r.writeTreeFile(".pkeys/.pmeta", body("{}"));
        await r.abort();
      });

      it("round-trips: one cell's export entries imported into another give the same tree", async () => {
        await store.createCell("c2");
        const source = await store.exportEntries("c1");
        const r = await store.beginReplace("c2");
        for (const e of source) {
          if (e.directory) continue;
          if (e.name === CELL_DOCUMENT_ENTRY) {
            await r.writeCellDocument(JSON.parse((await readAll(e.open())).toString()));
          } else if (e.name.startsWith(WEBDAV_DIR)) {
            await r.writeTreeFile(e.name.slice(WEBDAV_DIR.length), e.open());
          } else {
            const type = ENTITY_TYPES.find((t) => e.name === pjsonEntry(t.file))?.type as EntityType;
            const text = (await readAll(e.open())).toString();
            await r.writeEntities(
              type,
              text
                .split("\n")
                .filter((l) => l.length > 0)
                .map((l) => JSON.parse(l) as EntityDocument),
            );
          }
        }
        await r.commit();
        expect(await fingerprint(store, "c2")).toEqual(await fingerprint(store, "c1"));
        expect((await readAll((await store.openFile("c2", "__/old/file.txt")).stream)).toString()).toBe(
          "old content",
        );
      });

      it("fails the commit when the cell was deleted meanwhile", async () => {
        const r = await stageNew("c1");
        await store.deleteCell("c1");
        await expect(r.commit()).rejects.toBeInstanceOf(CellNotFoundError);
      });
    });

    describe("snapshot area", () => {
      beforeEach(async () => {
        await store.createCell("c1");
      });

      it("puts, lists, stats, opens and deletes files", async () => {
        expect(await store.snapshots.list("c1")).toEqual([]);
        const put = await store.snapshots.put("c1", "b.zip", body("zip bytes"), {
          contentType: "application/zip",
        });
        expect(put).toMatchObject({ created: true });
        expect(put.etag).toMatch(ETAG);
        await store.snapshots.put("c1", "a.bin", body("x"));
        const list = await store.snapshots.list("c1");
        expect(list.map((s) => s.name)).toEqual(["a.bin", "b.zip"]);
        const stat = await store.snapshots.stat("c1", "b.zip");
        expect(stat).toMatchObject({
          name: "b.zip",
          size: 9,
          contentType: "application/zip",
          etag: put.etag,
        });
        expect(stat?.sha256).toBe(sha(Buffer.from("zip bytes")));
        expect(stat?.created).toBeInstanceOf(Date);
        expect(stat?.etag).toBe(`"1-${stat?.updated.getTime()}"`);
        const opened = await store.snapshots.open("c1", "b.zip");
        expect((await readAll(opened.stream)).toString()).toBe("zip bytes");
        const ranged = await store.snapshots.open("c1", "b.zip", { start: 4, end: 8 });
        expect((await readAll(ranged.stream)).toString()).toBe("bytes");
        await expect(store.snapshots.open("c1", "b.zip", { start: 9, end: 9 })).rejects.toBeInstanceOf(
          RangeNotSatisfiableError,
        );
        await store.snapshots.delete("c1", "b.zip");
        expect(await store.snapshots.stat("c1", "b.zip")).toBeNull();
        await expect(store.snapshots.delete("c1", "b.zip")).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.snapshots.open("c1", "b.zip")).rejects.toBeInstanceOf(NotFoundError);
        expect((await store.snapshots.list("c1")).map((s) => s.name)).toEqual(["a.bin"]);
      });

      it("versions replaces and honours If-Match", async () => {
        const first = await store.snapshots.put("c1", "f.zip", body("1"));
        const created = (await store.snapshots.stat("c1", "f.zip"))?.created;
        await expect(
          store.snapshots.put("c1", "f.zip", body("2"), { ifMatch: '"7-7"' }),
        ).rejects.toBeInstanceOf(PreconditionFailedError);
        await expect(store.snapshots.put("c1", "g.zip", body("2"), { ifMatch: "*" })).rejects.toBeInstanceOf(
          PreconditionFailedError,
        );
        const second = await store.snapshots.put("c1", "f.zip", body("22"), { ifMatch: first.etag });
        expect(second.created).toBe(false);
        const stat = await store.snapshots.stat("c1", "f.zip");
        expect(stat?.etag).toBe(second.etag);
        expect(stat?.etag.startsWith('"2-')).toBe(true);
        expect(stat?.created.getTime()).toBe(created?.getTime());
        await expect(store.snapshots.delete("c1", "f.zip", { ifMatch: first.etag })).rejects.toBeInstanceOf(
          PreconditionFailedError,
        );
        await store.snapshots.delete("c1", "f.zip", { ifMatch: "*" });
      });

      it("enforces maxBytes and shows nothing of a refused put", async () => {
        await expect(
          store.snapshots.put("c1", "big.zip", body(Buffer.alloc(2048)), { maxBytes: 2047 }),
        ).rejects.toBeInstanceOf(TooLargeError);
        expect(await store.snapshots.list("c1")).toEqual([]);
      });

      it("refuses unsafe names", async () => {
        for (const bad of BAD_SNAPSHOT_NAMES) {
          await expect(store.snapshots.put("c1", bad, body("x")), JSON.stringify(bad)).rejects.toBeInstanceOf(
            InvalidNameError,
          );
          await expect(store.snapshots.stat("c1", bad), JSON.stringify(bad)).rejects.toBeInstanceOf(
            InvalidNameError,
          );
          await expect(store.snapshots.open("c1", bad), JSON.stringify(bad)).rejects.toBeInstanceOf(
            InvalidNameError,
          );
          await expect(store.snapshots.delete("c1", bad), JSON.stringify(bad)).rejects.toBeInstanceOf(
            InvalidNameError,
          );
        }
        await expect(store.snapshots.list("../c1")).rejects.toBeInstanceOf(InvalidNameError);
        expect(await store.snapshots.list("c1")).toEqual([]);
      });

      it("never shows a put in progress; a replace in progress still serves the old file", async () => {
        await store.snapshots.put("c1", "old.zip", body("old"));
        const fresh = new PassThrough();
        const replacing = new PassThrough();
        const p1 = store.snapshots.put("c1", "new.zip", fresh);
        const p2 = store.snapshots.put("c1", "old.zip", replacing);
        fresh.write("half");
        replacing.write("half");
        await sleep(30);
        expect((await store.snapshots.list("c1")).map((s) => s.name)).toEqual(["old.zip"]);
        expect(await store.snapshots.stat("c1", "new.zip")).toBeNull();
        expect((await readAll((await store.snapshots.open("c1", "old.zip")).stream)).toString()).toBe("old");
        fresh.end("-new");
        replacing.end("-old");
        await Promise.all([p1, p2]);
        expect((await readAll((await store.snapshots.open("c1", "new.zip")).stream)).toString()).toBe(
          "half-new",
        );
        expect((await readAll((await store.snapshots.open("c1", "old.zip")).stream)).toString()).toBe(
          "half-old",
        );
      });

      it("commits an export writer atomically and keeps its temp file out of sight", async () => {
        const writer = await store.snapshots.createWriter("c1", "exp", "job-1:1");
        const other = await store.snapshots.createWriter("c1", "exp", "job-1:1");
        expect(other.tempPath).not.toBe(writer.tempPath);
        await other.abort();
        await writeFile(writer.tempPath, "PK zip data");
        expect(await store.snapshots.list("c1")).toEqual([]);
        expect(await store.snapshots.stat("c1", "exp.zip")).toBeNull();
        await expect(writer.commit({ sha256: "x", size: 3 })).rejects.toBeInstanceOf(ConflictError);
        const digest = sha(Buffer.from("PK zip data"));
        const stat = await writer.commit({ sha256: digest, size: 11 });
        expect(stat).toMatchObject({
          name: "exp.zip",
          size: 11,
          contentType: "application/zip",
          sha256: digest,
        });
        expect(stat.etag).toMatch(ETAG);
        expect(await store.snapshots.stat("c1", "exp.zip")).toEqual(stat);
        expect((await store.snapshots.list("c1")).map((s) => s.name)).toEqual(["exp.zip"]);
      });

      it("commits content handed over whole, written into the temp file by the commit", async () => {
        const content = Buffer.from("PK a zip kept in memory");
        const writer = await store.snapshots.createWriter("c1", "held", "job-2:1");
        await expect(
          writer.commit({ sha256: sha(content), size: content.length + 1, data: content }),
        ).rejects.toBeInstanceOf(ConflictError);
        expect(await store.snapshots.stat("c1", "held.zip")).toBeNull();
        const stat = await writer.commit({ sha256: sha(content), size: content.length, data: content });
        expect(stat).toMatchObject({ name: "held.zip", size: content.length, sha256: sha(content) });
        const { stream } = await store.snapshots.open("c1", "held.zip");
        expect((await readAll(stream)).equals(content)).toBe(true);
        // A second commit of a finished writer fails.
        await expect(writer.commit({ sha256: sha(content), size: content.length })).rejects.toBeInstanceOf(
          ConflictError,
        );
      });

      it("never replaces a published file: the commit refuses, the file and the temp file stay", async () => {
        await store.snapshots.put("c1", "taken.zip", Readable.from([Buffer.from("uploaded")]));
        const before = await store.snapshots.stat("c1", "taken.zip");
        const writer = await store.snapshots.createWriter("c1", "taken", "job-3:1");
        await writeFile(writer.tempPath, "PK zip data");
        await expect(
          writer.commit({ sha256: sha(Buffer.from("PK zip data")), size: 11 }),
        ).rejects.toBeInstanceOf(AlreadyExistsError);
        expect(await store.snapshots.stat("c1", "taken.zip")).toEqual(before);
        expect((await readAll((await store.snapshots.open("c1", "taken.zip")).stream)).toString()).toBe(
          "uploaded",
        );
        expect((await stat(writer.tempPath)).size).toBe(11);
        await writer.abort();
      });

      it("accepts a file name ending in .zip for the writer", async () => {
        const writer = await store.snapshots.createWriter("c1", "n2.zip", "k");
        const stat = await writer.commit({ sha256: sha(Buffer.alloc(0)), size: 0, data: Buffer.alloc(0) });
        expect(stat.name).toBe("n2.zip");
      });

      it("writes .error files as JSON and drops them when the zip arrives", async () => {
        const errorBody = { code: "PR500-SV-0000", message: { lang: "en", value: "Unknown error." } };
        await store.snapshots.writeError("c1", "exp", errorBody);
        const stat = await store.snapshots.stat("c1", "exp.error");
        expect(stat).toMatchObject({ name: "exp.error", contentType: "application/json" });
        expect(stat?.etag).toMatch(ETAG);
        expect(
          JSON.parse((await readAll((await store.snapshots.open("c1", "exp.error")).stream)).toString()),
        ).toEqual(errorBody);
        expect((await store.snapshots.list("c1")).map((s) => s.name)).toEqual(["exp.error"]);
        const writer = await store.snapshots.createWriter("c1", "exp", "2");
        await writer.commit({ sha256: sha(Buffer.alloc(0)), size: 0, data: Buffer.alloc(0) });
        expect((await store.snapshots.list("c1")).map((s) => s.name)).toEqual(["exp.zip"]);
      });

      it("sweeps abandoned temp files only once they are old enough", async () => {
        const writer = await store.snapshots.createWriter("c1", "abandoned", "9");
        await writeFile(writer.tempPath, "PK half a zip");
        expect(await store.snapshots.sweepTemp("c1", 60 * 60 * 1000)).toBe(0);
        await sleep(20);
        expect(await store.snapshots.sweepTemp("c1", 1)).toBeGreaterThanOrEqual(1);
        await expect(writer.commit({ sha256: "", size: 0 })).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.snapshots.list("c1")).toEqual([]);
      });
    });
  });
}
