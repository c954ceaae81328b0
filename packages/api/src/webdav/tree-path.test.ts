import { PersoniumError } from "@cellport/shared";
import { describe, expect, it } from "vitest";
import { boxPathOf } from "./tree-path.ts";

describe("boxPathOf", () => {
  it("maps the box root and nested paths, decoding each segment once", () => {
    expect(boxPathOf("/c1/__", "c1")).toEqual({ treePath: "__", segments: [], isRoot: true });
    expect(boxPathOf("/c1/__/", "c1")).toEqual({ treePath: "__", segments: [], isRoot: true });
    expect(boxPathOf("/c1/__/docs/a%20b.txt", "c1")).toEqual({
      treePath: "__/docs/a b.txt",
      segments: ["docs", "a b.txt"],
      isRoot: false,
    });
    expect(boxPathOf("/c1/__/docs/", "c1").treePath).toBe("__/docs");
    // Double-encoded dots are a literal name, never a traversal.
    expect(boxPathOf("/c1/__/%252e%252e", "c1").segments).toEqual(["%2e%2e"]);
  });

  const refused = [
    "/c1/__/..",
    "/c1/__/.",
    "/c1/__/%2e%2e/x",
    "/c1/__/.%2E/x",
    "/c1/__/a%2Fb",
    "/c1/__/a%2f..%2f..%2fetc",
    "/c1/__/a%5Cb",
    "/c1/__/..%5C..%5Cx",
    "/c1/__/a%00b",
    "/c1/__/a%0Ab",
    "/c1/__//x",
    "/c1/__/a//b",
    "/c1/__/%E0%A4%A",
    "/c1/__x",
    "/c2/__/x",
    `/c1/__/${"a".repeat(256)}`,
  ];
  for (const raw of refused) {
    it(`refuses ${raw.slice(0, 40)}`, () => {
      let caught: unknown;
      try {
        boxPathOf(raw, "c1");
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PersoniumError);
      expect((caught as PersoniumError).code).toBe("PR400-DV-9001");
    });
  }
});
