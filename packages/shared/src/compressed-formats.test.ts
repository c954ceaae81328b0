import { describe, expect, it } from "vitest";
import { isCompressedFormat } from "./compressed-formats.ts";

describe("isCompressedFormat", () => {
  it("knows compressed formats by extension, whatever the case", () => {
    for (const name of ["a.jpg", "B.JPEG", "song.Mp3", "x.tar.gz", "report.docx", "clip.mp4"]) {
      expect(isCompressedFormat(name), name).toBe(true);
    }
  });

  it("leaves everything else to deflate: text, unknown types, no extension, dot files", () => {
    for (const name of ["notes.txt", "data.json", "raw.bin", "jpg", ".png", "photo.jpg.txt", ""]) {
      expect(isCompressedFormat(name), name).toBe(false);
    }
  });
});
