import { describe, expect, it } from "vitest";
import {
  defaultExportName,
  isSafeFileName,
  isValidCellName,
  isValidResourceName,
  isValidSnapshotName,
} from "./names.ts";

describe("names", () => {
  it.each([
    ["c1", true],
    ["a", true],
    ["0-cell", true],
    ["-cell", false],
    ["Cell", false],
    ["a_b", false],
    ["", false],
    ["a".repeat(128), true],
    ["a".repeat(129), false],
  ])("cell name %j → %s", (name, ok) => expect(isValidCellName(name)).toBe(ok));

  it.each([
    ["CellExport_2017-01", true],
    ["a", true],
    ["a".repeat(192), true],
    ["a".repeat(193), false],
    ["", false],
    ["a b", false],
    ["a.zip", false],
    ["ä", false],
  ])("snapshot name %j → %s", (name, ok) => expect(isValidSnapshotName(name)).toBe(ok));

  it.each([
    ["snap.zip", true],
    ["..", false],
    [".", false],
    ["a/b", false],
    ["a\\b", false],
    ["a\u0000b", false],
    ["", false],
  ])("file name %j → %s", (name, ok) => expect(isSafeFileName(name)).toBe(ok));

  it.each([
    ["a.txt", true],
    ["a%b~c-d_e.f", true],
    ["ä", true],
    ["x".repeat(256), true],
    ["", false],
    ["x".repeat(257), false],
    ["a b", false],
    ...[...'\\/:*?"<>|'].map((c): [string, boolean] => [`a${c}b`, false]),
    ["a\u0000b", false],
    ["a\u001fb", false],
    ["a\u007fb", false],
  ])("new box resource name %j → %s", (name, ok) => expect(isValidResourceName(name)).toBe(ok));

  it("builds the default export name in UTC", () => {
    expect(defaultExportName("c1", new Date("2017-02-03T04:05:06.789Z"))).toBe("c1_20170203_040506");
  });
});
