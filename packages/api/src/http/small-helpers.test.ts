import { describe, expect, it } from "vitest";
import { ifNoneMatchHits } from "./etag.ts";
import { parseRange } from "./range.ts";
import { resolveRequestKey } from "./request-key.ts";

describe("resolveRequestKey", () => {
  const generate = () => "gen_key";
  it("keeps a valid key, including the empty string and 128 characters", () => {
    expect(resolveRequestKey(new Headers({ "X-Personium-RequestKey": "abc_DEF-123" }), generate)).toEqual({
      valid: true,
      key: "abc_DEF-123",
    });
    expect(resolveRequestKey(new Headers({ "X-Personium-RequestKey": "" }), generate)).toEqual({
      valid: true,
      key: "",
    });
    const long = "a".repeat(128);
    expect(resolveRequestKey(new Headers({ "X-Personium-RequestKey": long }), generate)).toEqual({
      valid: true,
      key: long,
    });
  });
  it("generates one when absent", () => {
    expect(resolveRequestKey(new Headers(), generate)).toEqual({ valid: true, key: "gen_key" });
  });
  it("flags invalid keys and substitutes a generated one", () => {
    for (const bad of ["a".repeat(129), "has space", "dot.ted", "a/b", "%41"]) {
      expect(resolveRequestKey(new Headers({ "X-Personium-RequestKey": bad }), generate)).toEqual({
        valid: false,
        key: "gen_key",
      });
    }
  });
});

describe("ifNoneMatchHits", () => {
  it("matches an equal ETag, in a list, weakly", () => {
    expect(ifNoneMatchHits('"1-2"', '"1-2"')).toBe(true);
    expect(ifNoneMatchHits('"x", "1-2"', '"1-2"')).toBe(true);
    expect(ifNoneMatchHits('W/"1-2"', '"1-2"')).toBe(true);
  });
  it("never treats * as a match (Personium clients send it on every request)", () => {
    expect(ifNoneMatchHits("*", '"1-2"')).toBe(false);
    expect(ifNoneMatchHits(null, '"1-2"')).toBe(false);
    expect(ifNoneMatchHits('"1-3"', '"1-2"')).toBe(false);
  });
});

describe("parseRange", () => {
  it("serves whole files when there is no usable range", () => {
    for (const header of [undefined, "", "bytes=", "items=0-1", "bytes=0-1,3-4", "bytes=5-2", "bytes=-"]) {
      expect(parseRange(header, 10)).toEqual({ kind: "full" });
    }
  });
  it("parses first-last, open-ended and suffix ranges, clamping the end", () => {
    expect(parseRange("bytes=0-4", 10)).toEqual({ kind: "partial", start: 0, end: 4 });
    expect(parseRange("bytes=5-", 10)).toEqual({ kind: "partial", start: 5, end: 9 });
    expect(parseRange("bytes=5-100", 10)).toEqual({ kind: "partial", start: 5, end: 9 });
    expect(parseRange("bytes=-3", 10)).toEqual({ kind: "partial", start: 7, end: 9 });
    expect(parseRange("bytes=-30", 10)).toEqual({ kind: "partial", start: 0, end: 9 });
  });
  it("refuses ranges starting past the end", () => {
    expect(parseRange("bytes=10-", 10)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-0", 10)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
  });
});
