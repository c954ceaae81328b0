import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type EntityDocument, PersoniumError } from "@cellport/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ReadSnapshotOptions, readSnapshot, type SnapshotItem } from "./read.ts";
import {
  buildZip,
  minimalSnapshotEntries,
  patchCentralEntry,
  personiumSnapshot,
  writeZip,
  type ZipEntrySpec,
} from "./testing.ts";

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "cellport-snapshot-read-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function zipFile(entries: readonly ZipEntrySpec[]): Promise<string> {
  const file = path.join(dir, `r${++counter}.zip`);
  await writeZip(file, entries);
  return file;
}

async function bytesFile(bytes: Buffer): Promise<string> {
  const file = path.join(dir, `r${++counter}.zip`);
  await writeFile(file, bytes);
  return file;
}

type Collected =
  | Exclude<SnapshotItem, { kind: "entities" } | { kind: "tree-content" }>
  | { kind: "entities"; type: string; documents: EntityDocument[] }
  | { kind: "tree-content"; path: string; size: number; text: string };

/** Consumes every item fully, as the import does. */
async function collect(file: string, options: ReadSnapshotOptions = {}): Promise<Collected[]> {
  const items: Collected[] = [];
  for await (const item of readSnapshot(file, options)) {
    if (item.kind === "entities") {
      const documents: EntityDocument[] = [];
      for await (const doc of item.documents) documents.push(doc);
      items.push({ kind: "entities", type: item.type, documents });
    } else if (item.kind === "tree-content") {
      const chunks: Buffer[] = [];
      for await (const chunk of item.body) chunks.push(chunk as Buffer);
      items.push({
        kind: "tree-content",
        path: item.path,
        size: item.size,
        text: Buffer.concat(chunks).toString(),
      });
    } else {
      items.push(item);
    }
  }
  return items;
}

async function failure(promise: Promise<unknown>): Promise<PersoniumError> {
  const error = await promise.then(
    () => {
      throw new Error("Expected reading to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PersoniumError);
  return error as PersoniumError;
}

const withEntry = (extra: ZipEntrySpec) => [...minimalSnapshotEntries(), extra];

describe("readSnapshot", () => {
  it("yields the manifest and the cell document first, then every pjson file", async () => {
    const items = await collect(await zipFile(minimalSnapshotEntries({ cellName: "src" })));
    expect(items[0]).toMatchObject({ kind: "manifest", manifest: { export_version: 2 }, entryCount: 18 });
    expect(items[1]).toMatchObject({ kind: "cell", document: { _source: { s: { Name: "src" } } } });
    const entities = items.filter((i) => i.kind === "entities");
    expect(entities).toHaveLength(16);
    expect(entities.every((i) => i.kind === "entities" && i.documents.length === 0)).toBe(true);
  });

  it("reads Personium's layout: escapes decoded, lines without a final newline, tree paths under 20_webdav/", async () => {
    const snapshot = personiumSnapshot();
    const items = await collect(await zipFile(snapshot.entries));
    const manifest = items[0];
    expect(manifest).toMatchObject({
      kind: "manifest",
      manifest: { unit_url: "https://personium.example/" },
    });

    const roles = items.find((i) => i.kind === "entities" && i.type === "Role");
    expect(roles?.kind === "entities" && roles.documents.map((d) => d._id)).toEqual([
      "role0000000000000000000000000001",
      "role0000000000000000000000000002",
    ]);
    const boxes = items.find((i) => i.kind === "entities" && i.type === "Box");
    expect(boxes?.kind === "entities" && boxes.documents[0]?._source).toMatchObject({
      s: { Schema: "https://personium.example/app/" },
    });

    const metas = items.flatMap((i) => (i.kind === "tree-meta" ? [i.path] : []));
    expect(metas).toEqual([
      ".pmeta",
      "__/.pmeta",
      "__/docs/.pmeta",
      "__/docs/hello.txt/.pmeta",
      `${snapshot.boxId}/.pmeta`,
    ]);
    const box = items.find((i) => i.kind === "tree-meta" && i.path === "__/.pmeta");
    expect(box).toMatchObject({
      meta: { t: "col.box", a: { "xml:base": "https://personium.example/pcell/__role/__/" } },
    });
    const content = items.find((i) => i.kind === "tree-content");
    expect(content).toEqual({
      kind: "tree-content",
      path: "__/docs/hello.txt/content",
      size: Buffer.byteLength(snapshot.fileText),
      text: snapshot.fileText,
    });
  });

  it("reports every byte it reads, adding up to the declared total", async () => {
    let bytes = 0;
    const items = await collect(await zipFile(personiumSnapshot().entries), { onBytes: (n) => (bytes += n) });
    const manifest = items[0];
    expect(manifest?.kind === "manifest" && manifest.totalBytes).toBe(bytes);
    expect(bytes).toBeGreaterThan(0);
  });

  it("streams a large entry in many chunks", async () => {
    const big = randomBytes(4 * 1024 * 1024);
    const file = await zipFile(withEntry({ name: "20_webdav/__/big/content", data: big }));
    let chunks = 0;
    let size = 0;
    for await (const item of readSnapshot(file)) {
      if (item.kind !== "tree-content") continue;
      for await (const chunk of item.body) {
        chunks++;
        size += (chunk as Buffer).length;
      }
    }
    expect(size).toBe(big.length);
    expect(chunks).toBeGreaterThan(4);
  });

  it("drains (and so verifies) what the consumer did not read", async () => {
    const zip = await buildZip(withEntry({ name: "20_webdav/__/x/content", data: Buffer.alloc(100_000) }));
    const bomb = patchCentralEntry(zip, "20_webdav/__/x/content", { uncompressedSize: 10 });
    const file = await bytesFile(bomb);
    const skipAll = async () => {
      for await (const _ of readSnapshot(file)) {
        // read nothing
      }
    };
    expect((await failure(skipAll())).code).toBe("PR400-MC-9001");
  });
});

describe("readSnapshot: lies and bombs (spec §4.3)", () => {
  it("stops a zip bomb at the first byte beyond its declared size", async () => {
    const zip = await buildZip(
      withEntry({ name: "20_webdav/__/bomb/content", data: Buffer.alloc(8 * 1024 * 1024) }),
    );
    const bomb = patchCentralEntry(zip, "20_webdav/__/bomb/content", { uncompressedSize: 1000 });
    let bombBytes = 0;
    let inBomb = false;
    const onBytes = (n: number) => {
      if (inBomb) bombBytes += n;
    };
    const error = await failure(
      (async () => {
        for await (const item of readSnapshot(await bytesFile(bomb), { onBytes })) {
          if (item.kind !== "tree-content") continue;
          inBomb = true;
          for await (const _ of item.body) {
            // consume
          }
        }
      })(),
    );
    expect(error.code).toBe("PR400-MC-9001");
    expect(error.message).toBe(
      "Invalid entry [20_webdav/__/bomb/content] in the snapshot file: more data than its declared size of 1000 bytes.",
    );
    expect(bombBytes).toBeLessThanOrEqual(1000);
  });

  it("refuses an entry with less data than declared", async () => {
    const zip = await buildZip(withEntry({ name: "20_webdav/__/x/content", data: "short" }));
    const lying = patchCentralEntry(zip, "20_webdav/__/x/content", { uncompressedSize: 50 });
    const error = await failure(collect(await bytesFile(lying)));
    expect(error.message).toContain("5 bytes of data, declared 50");
  });

  it("refuses data whose CRC-32 does not match", async () => {
    const zip = await buildZip(withEntry({ name: "20_webdav/__/x/content", data: "hello" }));
    const corrupt = patchCentralEntry(zip, "20_webdav/__/x/content", { crc32: 12345 });
    expect((await failure(collect(await bytesFile(corrupt)))).message).toContain("CRC-32 mismatch");
  });

  it("keeps a failure that happens before the consumer reads for the consumer (no unhandled error)", async () => {
    const zip = await buildZip(withEntry({ name: "20_webdav/__/x/content", data: "tiny" }));
    const corrupt = patchCentralEntry(zip, "20_webdav/__/x/content", { crc32: 7 });
    const run = (async () => {
      for await (const item of readSnapshot(await bytesFile(corrupt))) {
        if (item.kind !== "tree-content") continue;
        // The whole entry is read and checked while the consumer is still busy elsewhere.
        await new Promise((resolve) => setTimeout(resolve, 50));
        for await (const _ of item.body) {
          // consume
        }
      }
    })();
    expect((await failure(run)).message).toContain("CRC-32 mismatch");
  });

  it("refuses damaged deflate data with the entry's name", async () => {
    const zip = await buildZip(withEntry({ name: "20_webdav/__/x/content", data: randomBytes(5000) }));
    const localName = zip.indexOf("20_webdav/__/x/content");
    const damaged = Buffer.from(zip);
    damaged.fill(0xff, localName + 40, localName + 200);
    const error = await failure(collect(await bytesFile(damaged)));
    expect(error.code).toBe("PR400-MC-9001");
    expect(error.message).toContain("20_webdav/__/x/content");
  });
});

describe("readSnapshot: pjson lines", () => {
  const withBoxes = (data: string) =>
    minimalSnapshotEntries().map((e) => (e.name === "10_odata/10_box.pjson" ? { ...e, data } : e));

  it.each([
    ["not JSON", "{nope\n", "line 1 is not JSON"],
    ["not an object", "[1]\n", "line 1 is not a JSON object"],
    [
      "the wrong _type",
      '{"_type":"Role","_id":"a","_source":{}}\n',
      'line 1 has _type "Role", expected "Box"',
    ],
    ["no _id", '{"_type":"Box","_source":{}}\n', "line 1 has no string _id"],
    ["no _source", '\n{"_type":"Box","_id":"a"}\n', "line 2 has no _source object"],
  ])("refuses a line that is %s: PR400-MC-9005", async (_label, data, reason) => {
    const error = await failure(collect(await zipFile(withBoxes(data))));
    expect(error.code).toBe("PR400-MC-9005");
    expect(error.message).toBe(`[10_odata/10_box.pjson] file format error in the snapshot file: ${reason}.`);
  });

  it("accepts CRLF line ends and blank lines", async () => {
    const line = '{"_type":"Box","_id":"a","_source":{"s":{"Name":"b\\/c"}}}';
    const items = await collect(await zipFile(withBoxes(`${line}\r\n\r\n${line.replace('"a"', '"b"')}`)));
    const boxes = items.find((i) => i.kind === "entities" && i.type === "Box");
    expect(boxes?.kind === "entities" && boxes.documents.map((d) => d._id)).toEqual(["a", "b"]);
  });

  it("bounds one line's length", async () => {
    const line = `{"_type":"Box","_id":"a","_source":{"x":"${"y".repeat(5000)}"}}\n`;
    const error = await failure(
      collect(await zipFile(withBoxes(line)), { limits: { maxDocumentBytes: 4096 } }),
    );
    expect(error.message).toContain("line 1 is longer than 4096 bytes");
  });

  it("refuses a .pmeta that is not a JSON object with a type", async () => {
    const error = await failure(
      collect(await zipFile(withEntry({ name: "20_webdav/__/.pmeta", data: "{}" }))),
    );
    expect(error.code).toBe("PR400-MC-9005");
    expect(error.message).toContain("[20_webdav/__/.pmeta]");
  });
});

describe("readSnapshot: cancellation", () => {
  it("stops with the signal's reason", async () => {
    const controller = new AbortController();
    const file = await zipFile(
      withEntry({ name: "20_webdav/__/big/content", data: randomBytes(2 * 1024 * 1024) }),
    );
    const reason = new Error("cancelled by test");
    const run = (async () => {
      for await (const item of readSnapshot(file, { signal: controller.signal })) {
        if (item.kind !== "tree-content") continue;
        for await (const _ of item.body) controller.abort(reason);
      }
    })();
    await expect(run).rejects.toBe(reason);
  });
});
