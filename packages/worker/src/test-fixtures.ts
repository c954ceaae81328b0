/**
 * Test support for the worker's tests: a real fs store in a temp dir, a seeded
 * cell, a zip reader, and a finder for leftover temp files. Not used by production code.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline, Readable, Transform } from "node:stream";
import { buffer } from "node:stream/consumers";
import { setTimeout as sleep } from "node:timers/promises";
import type { EntityDocument, EntityType } from "@cellport/shared";
import { type CellStore, createFsStore, type ExportEntry } from "@cellport/store";
import yauzl from "yauzl";

export interface TempStore {
  store: CellStore;
  dataDir: string;
  cleanup(): Promise<void>;
}

export async function createTempStore(): Promise<TempStore> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "cellport-worker-"));
  return {
    store: createFsStore({ dataDir, durable: false }),
    dataDir,
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
}

function entity(type: EntityType, id: string): EntityDocument {
  return { _type: type, _id: id, _source: { c: "cell-id", s: { Name: id }, p: 1, u: 2 } };
}

/** A cell with entities of a few types, nested box files, a big file, and internal data that must not be exported. */
export async function seedCell(store: CellStore, cell: string, options: { bigFileBytes?: number } = {}) {
  await store.createCell(cell);
  await store.appendEntities(cell, "Box", [entity("Box", "box-1")]);
  await store.appendEntities(cell, "Account", [entity("Account", "me"), entity("Account", "you")]);
  await store.appendEntities(cell, "UserData", [entity("UserData", "u1")]);
  await store.mkcol(cell, "__/docs");
  await store.mkcol(cell, "__/docs/sub");
  await store.putFile(cell, "__/docs/a.txt", Readable.from([Buffer.from("hello")]), {
    contentType: "text/plain",
  });
  await store.putFile(cell, "__/docs/sub/empty.bin", Readable.from([]));
  const big = randomBytes(options.bigFileBytes ?? 300_000);
  await store.putFile(cell, "__/big.bin", Readable.from([big]));
  await store.writeInternalFile?.(cell, ".pkeys", "key.json", '{"secret":true}');
  await store.writeInternalFile?.(cell, ".pauthhistory", "h.json", "{}");
}

export interface ZipContent {
  comment: string;
  /** Entry names in archive order. */
  names: string[];
  files: Map<string, Buffer>;
  /** Entries written with a data descriptor (sizes after the data): the streamed ones. */
  streamedEntries: number;
  /** Each entry's compression method: 0 stored, 8 deflated. */
  methods: Map<string, number>;
}

export function readZip(data: Buffer): Promise<ZipContent> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(data, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const names: string[] = [];
      const files = new Map<string, Buffer>();
      let streamedEntries = 0;
      const methods = new Map<string, number>();
      zip.on("error", reject);
      zip.on("end", () => resolve({ comment: zip.comment, names, files, streamedEntries, methods }));
      zip.on("entry", (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        methods.set(entry.fileName, entry.compressionMethod);
        if (entry.generalPurposeBitFlag & 0b1000) streamedEntries++;
        if (entry.fileName.endsWith("/")) return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError);
          buffer(stream).then((content) => {
            files.set(entry.fileName, content);
            zip.readEntry();
          }, reject);
        });
      });
      zip.readEntry();
    });
  });
}

/** The committed `{name}.zip` of `cell`, read whole (tests use small cells). */
export async function readSnapshotZip(store: CellStore, cell: string, name: string): Promise<ZipContent> {
  const { stream } = await store.snapshots.open(cell, `${name}.zip`);
  return readZip(await buffer(stream));
}

/** Every in-flight temp file under the data dir (the store keeps them in `.tmp`/`tmp` dirs). */
export async function findTempFiles(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, inTemp: boolean) {
    for (const dirent of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, dirent.name);
      const temp = inTemp || dirent.name === ".tmp" || dirent.name === "tmp";
      if (dirent.isDirectory()) await walk(full, temp);
      else if (temp || dirent.name.endsWith(".part")) found.push(full);
    }
  }
  await walk(dataDir, false);
  return found;
}

/**
 * `store` whose export file reads trickle: each chunk of a stream, and each whole
 * read, waits `delayMs` (to catch an export mid-stream).
 */
export function slowStore(store: CellStore, delayMs: number): CellStore {
  return {
    ...store,
    snapshots: store.snapshots,
    async exportEntries(cell) {
      const entries = await store.exportEntries(cell);
      return entries.map((entry) => {
        const slow: ExportEntry = {
          ...entry,
          open: () => {
            const trickle = new Transform({
              highWaterMark: 1,
              transform(chunk: Buffer, _encoding, done) {
                setTimeout(() => done(null, chunk), delayMs);
              },
            });
            pipeline(entry.open(), trickle, () => {});
            return trickle;
          },
        };
        const read = entry.read;
        if (read) {
          slow.read = async () => {
            await sleep(delayMs);
            return read.call(entry);
          };
        }
        return slow;
      });
    },
  };
}

/** `store` whose export entries have no `read()`: every file is streamed, as by a store without it. */
export function streamOnlyStore(store: CellStore): CellStore {
  return {
    ...store,
    snapshots: store.snapshots,
    async exportEntries(cell) {
      return (await store.exportEntries(cell)).map(({ read: _read, ...entry }) => entry);
    },
  };
}

/** `store` whose export fails when it reads a file, with `error` (a fresh one per call). */
export function failingStore(store: CellStore, error: () => Error): CellStore {
  return {
    ...store,
    snapshots: store.snapshots,
    async exportEntries() {
      throw error();
    },
  };
}
