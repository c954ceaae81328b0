import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import yazl from "yazl";
import { createTempStore, type TempStore } from "./test-fixtures.ts";
import { exportComment, readZipTrailer } from "./zip-trailer.ts";

let fixture: TempStore;

beforeEach(async () => {
  fixture = await createTempStore();
  await fixture.store.createCell("c1");
});

afterEach(async () => {
  await fixture.cleanup();
});

/** Puts a zip of `count` tiny entries into the snapshot area. */
async function putZip(file: string, count: number, end: { comment?: string; forceZip64Format?: boolean }) {
  const zip = new yazl.ZipFile();
  for (let i = 0; i < count; i++) zip.addBuffer(Buffer.from(`e${i}`), `e${i}.txt`, { compressionLevel: 0 });
  zip.end({ comment: end.comment ?? "", forceZip64Format: end.forceZip64Format ?? false });
  const body = (zip.outputStream as unknown as PassThrough).pipe(new PassThrough());
  await fixture.store.snapshots.put("c1", file, body);
  const stat = await fixture.store.snapshots.stat("c1", file);
  if (!stat) throw new Error("not stored");
  return stat.size;
}

describe("readZipTrailer", () => {
  it("reads the comment and entry count of a plain zip", async () => {
    const size = await putZip("a.zip", 3, { comment: exportComment("export-123") });
    expect(await readZipTrailer(fixture.store, "c1", "a.zip", size)).toEqual({
      comment: "cellport export job=export-123",
      entries: 3,
    });
  });

  it("reads the entry count of a Zip64 archive from its Zip64 end record", async () => {
    const size = await putZip("b.zip", 5, { comment: "x", forceZip64Format: true });
    expect(await readZipTrailer(fixture.store, "c1", "b.zip", size)).toEqual({ comment: "x", entries: 5 });
  });

  it("is null for a file that is not a zip", async () => {
    const body = new PassThrough();
    body.end("definitely not a zip archive, just some text here");
    await fixture.store.snapshots.put("c1", "c.zip", body);
    const stat = await fixture.store.snapshots.stat("c1", "c.zip");
    expect(await readZipTrailer(fixture.store, "c1", "c.zip", stat?.size ?? 0)).toBeNull();
  });
});
