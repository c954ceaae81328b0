import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PersoniumError } from "@cellport/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildZip,
  minimalSnapshotEntries,
  patchCentralEntry,
  personiumSnapshot,
  renameEntry,
  writeZip,
  type ZipEntrySpec,
} from "./testing.ts";
import { validateSnapshot } from "./validate.ts";

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "cellport-snapshot-validate-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function nextPath(): string {
  counter++;
  return path.join(dir, `s${counter}.zip`);
}

async function zipFile(entries: readonly ZipEntrySpec[]): Promise<string> {
  const file = nextPath();
  await writeZip(file, entries);
  return file;
}

async function bytesFile(bytes: Buffer | string): Promise<string> {
  const file = nextPath();
  await writeFile(file, bytes);
  return file;
}

async function failure(promise: Promise<unknown>): Promise<PersoniumError> {
  const error = await promise.then(
    () => {
      throw new Error("Expected the snapshot to be refused");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PersoniumError);
  return error as PersoniumError;
}

const without = (entries: ZipEntrySpec[], name: string) => entries.filter((e) => e.name !== name);

describe("validateSnapshot: a good archive", () => {
  it("summarises a minimal snapshot", async () => {
    const summary = await validateSnapshot(await zipFile(minimalSnapshotEntries({ cellName: "a" })));
    expect(summary.manifest).toMatchObject({ export_version: 2, unit_url: "http://localhost:8080/" });
    expect(summary.cellDocument).toMatchObject({ _type: "Cell", _source: { s: { Name: "a" } } });
    expect(summary.entryCount).toBe(18);
    expect(summary.totalBytes).toBeGreaterThan(0);
  });

  it("accepts Personium's layout: directory entries, \\/ escapes, keys in any order", async () => {
    const snapshot = personiumSnapshot();
    const summary = await validateSnapshot(await zipFile(snapshot.entries));
    expect(summary.manifest.unit_url).toBe("https://personium.example/");
    expect(summary.cellDocument._id).toBe(snapshot.cellId);
    expect(summary.entryCount).toBe(snapshot.entries.length);
  });

  it("accepts stored (uncompressed) entries", async () => {
    const entries = minimalSnapshotEntries().map((e) => ({ ...e, compress: false }));
    await expect(validateSnapshot(await zipFile(entries))).resolves.toBeDefined();
  });

  it("ignores files the format does not define", async () => {
    const entries = [...minimalSnapshotEntries(), { name: "README.txt", data: "hello" }];
    await expect(validateSnapshot(await zipFile(entries))).resolves.toBeDefined();
  });

  it("leaves a missing file to the caller (ENOENT, not a Personium error)", async () => {
    await expect(validateSnapshot(path.join(dir, "nope.zip"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("validateSnapshot: Personium's checks (spec §4.1)", () => {
  it.each([
    ["a text file", "this is not a zip"],
    ["an empty file", ""],
  ])("refuses %s: PR400-MC-0004", async (_label, content) => {
    const error = await failure(validateSnapshot(await bytesFile(content)));
    expect(error.code).toBe("PR400-MC-0004");
    expect(error.message).toBe("The specified snapshot file is not zip file.");
    expect(error.status).toBe(400);
  });

  it("refuses a truncated zip: PR400-MC-0004", async () => {
    const zip = await buildZip(minimalSnapshotEntries());
    const error = await failure(validateSnapshot(await bytesFile(zip.subarray(0, zip.length - 30))));
    expect(error.code).toBe("PR400-MC-0004");
  });

  it("refuses a manifest that is not JSON: PR400-CM-0004 with the raw text", async () => {
    const error = await failure(
      validateSnapshot(await zipFile(minimalSnapshotEntries({ manifest: "{oops" }))),
    );
    expect(error.code).toBe("PR400-CM-0004");
    expect(error.message).toBe("JSON parse error. [{oops].");
  });

  it.each([
    [JSON.stringify({ export_version: 1 }), "1"],
    [JSON.stringify({ unit_url: "http://x/" }), "null"],
    [JSON.stringify({ export_version: "2" }), '"2"'],
    ["[]", "null"],
  ])("refuses manifest %s: PR400-MC-0003", async (manifest, shown) => {
    const error = await failure(validateSnapshot(await zipFile(minimalSnapshotEntries({ manifest }))));
    expect(error.code).toBe("PR400-MC-0003");
    expect(error.message).toBe(`Version of the snapshot file is invalid. Expected [2] but was [${shown}].`);
  });

  it.each([
    "00_manifest.json",
    "10_odata/00_cell.json",
    "10_odata/10_box.pjson",
    "10_odata/50_property.pjson",
    "10_odata/80_link.pjson",
  ])("refuses an archive without %s: PR400-MC-0001", async (name) => {
    const error = await failure(validateSnapshot(await zipFile(without(minimalSnapshotEntries(), name))));
    expect(error.code).toBe("PR400-MC-0001");
    expect(error.message).toBe(`[${name}] does not exist in the snapshot file.`);
  });

  it("does not count a directory entry as the required file", async () => {
    const entries = [
      ...without(minimalSnapshotEntries(), "10_odata/10_box.pjson"),
      { name: "10_odata/10_box.pjson/", directory: true },
    ];
    const error = await failure(validateSnapshot(await zipFile(entries)));
    expect(error.code).toBe("PR400-MC-0001");
  });

  it("checks the version before the other required entries", async () => {
    const entries = without(
      minimalSnapshotEntries({ manifest: '{"export_version":3}' }),
      "10_odata/10_box.pjson",
    );
    expect((await failure(validateSnapshot(await zipFile(entries)))).code).toBe("PR400-MC-0003");
  });

  it("refuses a cell document that is not a JSON object: PR400-MC-9005", async () => {
    const entries = minimalSnapshotEntries().map((e) =>
      e.name === "10_odata/00_cell.json" ? { ...e, data: "[1,2]" } : e,
    );
    const error = await failure(validateSnapshot(await zipFile(entries)));
    expect(error.code).toBe("PR400-MC-9005");
    expect(error.message).toBe(
      "[10_odata/00_cell.json] file format error in the snapshot file: not a JSON object.",
    );
  });
});

describe("validateSnapshot: hostile archives (spec §4.3)", () => {
  /** A valid snapshot plus one entry whose name is patched to `hostile` after yazl wrote it. */
  async function withHostileName(hostile: string, data = "x"): Promise<string> {
    const placeholder = `zz${"Q".repeat(Buffer.byteLength(hostile) - 2)}`;
    const zip = await buildZip([...minimalSnapshotEntries(), { name: placeholder, data }]);
    return bytesFile(renameEntry(zip, placeholder, hostile));
  }

  it.each([
    ["../evil.txt", '".." segment'],
    ["20_webdav/__/../../etc/.pmeta", '".." segment'],
    ["20_webdav/__/./a/.pmeta", '"." segment'],
    ["/etc/passwd", "absolute path"],
    ["C:/Windows/x", "absolute path"],
    ["20_webdav\\..\\x", "backslash"],
    ["20_webdav/__/a\u0000b/.pmeta", "NUL or a control character"],
    ["20_webdav/__//a/.pmeta", "empty segment"],
  ])("refuses the entry name %j: PR400-MC-9001", async (name, reason) => {
    const error = await failure(validateSnapshot(await withHostileName(name)));
    expect(error.code).toBe("PR400-MC-9001");
    expect(error.status).toBe(400);
    expect(error.message).toContain(reason);
    expect(error.message).not.toContain("\u0000");
  });

  it("refuses a symbolic link entry (external attributes)", async () => {
    const entries = [
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/link/content", data: "/etc/passwd", mode: 0o120777 },
    ];
    const error = await failure(validateSnapshot(await zipFile(entries)));
    expect(error.code).toBe("PR400-MC-9001");
    expect(error.message).toBe(
      "Invalid entry [20_webdav/__/link/content] in the snapshot file: a symbolic link.",
    );
  });

  it("refuses device and fifo entries", async () => {
    const entries = [
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/fifo/content", data: "", mode: 0o010644 },
    ];
    expect((await failure(validateSnapshot(await zipFile(entries)))).message).toContain("not a regular file");
  });

  it("refuses a duplicate entry", async () => {
    const entries = [...minimalSnapshotEntries(), { name: "10_odata/10_box.pjson", data: "" }];
    const error = await failure(validateSnapshot(await zipFile(entries)));
    expect(error.code).toBe("PR400-MC-9001");
    expect(error.message).toContain("duplicate");
  });

  it("refuses tree files that are neither .pmeta nor content", async () => {
    const entries = [...minimalSnapshotEntries(), { name: "20_webdav/__/evil.sh", data: "rm -rf /" }];
    const error = await failure(validateSnapshot(await zipFile(entries)));
    expect(error.code).toBe("PR400-MC-9001");
    expect(error.message).toContain("neither .pmeta nor content");
  });

  it("refuses too many entries: PR400-MC-9004", async () => {
    const error = await failure(
      validateSnapshot(await zipFile(minimalSnapshotEntries()), { limits: { maxEntries: 10 } }),
    );
    expect(error.code).toBe("PR400-MC-9004");
    expect(error.message).toBe("Too many entries in the snapshot file [18].");
  });

  it("refuses an entry declared larger than the per-entry bound: PR400-MC-9002", async () => {
    const entries = [
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/big/content", data: "x".repeat(5000) },
    ];
    const error = await failure(
      validateSnapshot(await zipFile(entries), { limits: { maxEntryBytes: 4096 } }),
    );
    expect(error.code).toBe("PR400-MC-9002");
    expect(error.message).toBe("Snapshot file entry size too large [20_webdav/__/big/content, 5000B].");
  });

  it("bounds documents held in memory (manifest, cell document, .pmeta) more tightly", async () => {
    const entries = [
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/.pmeta", data: `{"t":"col.box","x":"${"y".repeat(3000)}"}` },
    ];
    const error = await failure(
      validateSnapshot(await zipFile(entries), { limits: { maxDocumentBytes: 2048 } }),
    );
    expect(error.code).toBe("PR400-MC-9002");
  });

  it("refuses a declared total beyond the bound: PR400-MC-9003", async () => {
    const entries = [
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/a/content", data: "x".repeat(3000) },
      { name: "20_webdav/__/b/content", data: "x".repeat(3000) },
    ];
    const error = await failure(
      validateSnapshot(await zipFile(entries), { limits: { maxTotalBytes: 5000 } }),
    );
    expect(error.code).toBe("PR400-MC-9003");
  });

  it("refuses a zip bomb by its declared size before inflating a byte", async () => {
    const zip = await buildZip([
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/bomb/content", data: Buffer.alloc(1 << 20) },
    ]);
    const error = await failure(
      validateSnapshot(await bytesFile(zip), { limits: { maxEntryBytes: 1 << 19 } }),
    );
    expect(error.code).toBe("PR400-MC-9002");
  });

  it("refuses encrypted entries and unknown compression methods", async () => {
    const zip = await buildZip([
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/x/content", data: "secret" },
    ]);
    const encrypted = patchCentralEntry(zip, "20_webdav/__/x/content", { generalPurposeBitFlag: 0x0801 });
    expect((await failure(validateSnapshot(await bytesFile(encrypted)))).message).toContain("encrypted");
    const lzma = patchCentralEntry(zip, "20_webdav/__/x/content", { compressionMethod: 14 });
    expect((await failure(validateSnapshot(await bytesFile(lzma)))).message).toContain(
      "compression method 14",
    );
  });

  it("refuses a stored entry whose two sizes disagree", async () => {
    const zip = await buildZip([
      ...minimalSnapshotEntries(),
      { name: "20_webdav/__/x/content", data: "abcdef", compress: false },
    ]);
    const lying = patchCentralEntry(zip, "20_webdav/__/x/content", { uncompressedSize: 2 });
    expect((await failure(validateSnapshot(await bytesFile(lying)))).code).toBe("PR400-MC-9001");
  });

  it("rejects a limit that is not a positive integer", async () => {
    await expect(
      validateSnapshot(await zipFile(minimalSnapshotEntries()), { limits: { maxEntries: 0 } }),
    ).rejects.toThrow(RangeError);
  });
});
