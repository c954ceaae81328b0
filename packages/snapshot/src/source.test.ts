import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { PersoniumError } from "@cellport/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSnapshot } from "./read.ts";
import { type RangeSource, type SnapshotFiles, snapshotAreaSource } from "./source.ts";
import { minimalSnapshotEntries, personiumSnapshot, writeZip } from "./testing.ts";
import { validateSnapshot } from "./validate.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "cellport-snapshot-source-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A snapshot area over plain files in `dir`, counting the range requests it serves. */
function fakeArea(): SnapshotFiles & { opens: number } {
  const area = {
    opens: 0,
    async stat(_cell: string, name: string) {
      const info = await stat(path.join(dir, name)).catch(() => null);
      return info ? { size: info.size } : null;
    },
    async open(_cell: string, name: string, range?: { start: number; end: number }) {
      area.opens++;
      const stream: Readable = createReadStream(path.join(dir, name), range ?? {});
      return { stream };
    },
  };
  return area;
}

async function readAll(source: RangeSource | string): Promise<string[]> {
  const seen: string[] = [];
  for await (const item of readSnapshot(source)) {
    if (item.kind === "entities") {
      for await (const doc of item.documents) seen.push(`${item.type}:${doc._id}`);
    } else if (item.kind === "tree-content") {
      const chunks: Buffer[] = [];
      for await (const chunk of item.body) chunks.push(chunk as Buffer);
      seen.push(`${item.path}=${Buffer.concat(chunks).toString()}`);
    } else if (item.kind === "tree-meta") {
      seen.push(`${item.path}:${String(item.meta.t)}`);
    } else {
      seen.push(item.kind);
    }
  }
  return seen;
}

describe("snapshotAreaSource", () => {
  it("is null for a file the area does not have", async () => {
    expect(await snapshotAreaSource(fakeArea(), "c1", "missing.zip")).toBeNull();
  });

  it("reads exactly what the path reader reads, with few range requests", async () => {
    const snapshot = personiumSnapshot();
    await writeZip(path.join(dir, "p.zip"), snapshot.entries);
    const area = fakeArea();
    const source = await snapshotAreaSource(area, "c1", "p.zip");
    if (!source) throw new Error("expected a source");
    expect(await readAll(source)).toEqual(await readAll(path.join(dir, "p.zip")));
    // Two passes over ~30 entries: windows, not one request per read.
    expect(area.opens).toBeLessThan(10);
  });

  it("refuses a file that is not a zip: PR400-MC-0004", async () => {
    const file = path.join(dir, "text.zip");
    await import("node:fs/promises").then((fs) => fs.writeFile(file, "plain text, no zip"));
    const source = await snapshotAreaSource(fakeArea(), "c1", "text.zip");
    if (!source) throw new Error("expected a source");
    const error = await validateSnapshot(source).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersoniumError);
    expect((error as PersoniumError).code).toBe("PR400-MC-0004");
  });

  it("serves entries larger than a window from their own range", async () => {
    const big = Buffer.alloc(600 * 1024, 7);
    await writeZip(path.join(dir, "big.zip"), [
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/big/content", data: big, compress: false },
    ]);
    const source = await snapshotAreaSource(fakeArea(), "c1", "big.zip");
    if (!source) throw new Error("expected a source");
    let size = 0;
    for await (const item of readSnapshot(source)) {
      if (item.kind === "tree-content") for await (const chunk of item.body) size += (chunk as Buffer).length;
    }
    expect(size).toBe(big.length);
  });
});
