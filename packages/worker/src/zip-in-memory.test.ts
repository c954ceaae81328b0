import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import yazl from "yazl";
import { type InMemoryZipEntry, zipInMemory } from "./zip-in-memory.ts";

/** What yazl makes of the same entries, all given as buffers. */
async function yazlZip(entries: readonly InMemoryZipEntry[], comment: string): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) {
    if (entry.directory) zip.addEmptyDirectory(entry.name, { mtime: entry.mtime });
    else
      zip.addBuffer(entry.data ?? Buffer.alloc(0), entry.name, {
        mtime: entry.mtime,
        compressionLevel: entry.compressionLevel ?? 6,
      });
  }
  zip.end({ comment, forceZip64Format: false });
  return buffer(zip.outputStream as unknown as Readable);
}

const text = (n: number) => Buffer.from("personium cell export ".repeat(Math.ceil(n / 22)).slice(0, n));

describe("zipInMemory", () => {
  it("makes the bytes yazl makes: directories, empty, stored and deflated files, UTF-8 names, a comment", async () => {
    const entries: InMemoryZipEntry[] = [
      {
        name: "00_meta/00_manifest.json",
        mtime: new Date(2024, 4, 17, 13, 45, 31),
        directory: false,
        data: text(90),
        compressionLevel: 0,
      },
      { name: "10_odata/", mtime: new Date(2023, 0, 1), directory: true },
      {
        name: "10_odata/11_account.pjson",
        mtime: new Date(2025, 11, 31, 23, 59, 59),
        directory: false,
        data: Buffer.alloc(0),
        compressionLevel: 0,
      },
      {
        name: "10_odata/20_role.pjson",
        mtime: new Date(2025, 1, 2, 3, 4, 5),
        directory: false,
        data: Buffer.alloc(0),
      },
      { name: "20_webdav/__/docs", mtime: new Date(1975, 0, 1), directory: true },
      {
        name: "20_webdav/__/docs/résumé.txt/content",
        mtime: new Date(2026, 6, 1),
        directory: false,
        data: text(5000),
        compressionLevel: 6,
      },
      {
        name: "20_webdav/__/docs/noise.bin/content",
        mtime: new Date(2110, 0, 1),
        directory: false,
        data: randomBytes(3000),
        compressionLevel: 1,
      },
    ];
    const comment = "cellport export job=export-42";
    const ours = zipInMemory(entries, comment);
    expect(ours.equals(await yazlZip(entries, comment))).toBe(true);
  });

  it("makes yazl's bytes for an empty archive without a comment", async () => {
    expect(zipInMemory([]).equals(await yazlZip([], ""))).toBe(true);
  });

  it("refuses what would need zip64 or another comment encoding", () => {
    expect(() => zipInMemory([], "é")).toThrow(/printable ASCII/);
    const many = Array.from({ length: 0xffff }, (_, i) => ({
      name: `d${i}`,
      mtime: new Date(0),
      directory: true,
    }));
    expect(() => zipInMemory(many)).toThrow(/too many entries/);
  });
});
