import { describe, expect, it } from "vitest";
import { createCellRewriter, sourceIdentity } from "./rewrite.ts";

const SRC_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const DST_ID = "ffffffffffffffffffffffffffffffff";
const source = { unitUrl: "https://personium.example/", name: "pcell", id: SRC_ID };
const target = { unitUrl: "http://localhost:8080/", name: "c2", id: DST_ID };

describe("sourceIdentity", () => {
  it("reads the unit URL, the cell id and the name (Personium's shape and the flat one)", () => {
    expect(
      sourceIdentity({ unit_url: "https://u.example" }, { _id: SRC_ID, _source: { s: { Name: "pcell" } } }),
    ).toEqual({ unitUrl: "https://u.example/", id: SRC_ID, name: "pcell" });
    expect(sourceIdentity({}, { Name: "flat" })).toEqual({ name: "flat" });
  });
});

describe("createCellRewriter", () => {
  const rewrite = createCellRewriter(source, target);

  it.each([
    ["https://personium.example/pcell/__role/__/", "http://localhost:8080/c2/__role/__/"],
    ["https://personium.example/pcell", "http://localhost:8080/c2"],
    ["https://personium.example/pcell#frag", "http://localhost:8080/c2#frag"],
    ["https://personium.example/pcell2/", "http://localhost:8080/pcell2/"],
    ["https://personium.example/friend/", "http://localhost:8080/friend/"],
    ["personium-localunit:/pcell/__/x", "personium-localunit:/c2/__/x"],
    ["personium-localunit:pcell:/__/x", "personium-localunit:c2:/__/x"],
    ["personium-localcell:/__/x", "personium-localcell:/__/x"],
    [`role:${SRC_ID}`, `role:${DST_ID}`],
    ["https://elsewhere.example/pcell/", "https://elsewhere.example/pcell/"],
    ["pcell", "pcell"],
  ])("%s → %s", (input, output) => {
    expect(rewrite.string(input)).toBe(output);
  });

  it("never rewrites a replacement again (target unit under the source unit)", () => {
    const nested = createCellRewriter(
      { unitUrl: "http://a/", name: "x", id: SRC_ID },
      { unitUrl: "http://a/b/", name: "y", id: DST_ID },
    );
    expect(nested.string("http://a/x/ and http://a/z/")).toBe("http://a/b/y/ and http://a/b/z/");
  });

  it("rewrites entities deeply and sets _source.c to the target cell", () => {
    const doc = {
      _type: "UserData",
      _id: "ud1",
      _source: { c: SRC_ID, b: SRC_ID, s: { note: "see https://personium.example/pcell/__/a" }, l: [SRC_ID] },
    };
    expect(rewrite.entity(doc)).toEqual({
      _type: "UserData",
      _id: "ud1",
      _source: { c: DST_ID, b: DST_ID, s: { note: "see http://localhost:8080/c2/__/a" }, l: [DST_ID] },
    });
    expect(doc._source.c).toBe(SRC_ID);
  });

  it("sets c even when nothing else changes", () => {
    const same = createCellRewriter(target, target);
    expect(same.entity({ _type: "Box", _id: "b", _source: { c: "other" } })._source.c).toBe(DST_ID);
  });

  it("rewrites .pmeta ids and ACL URLs", () => {
    const meta = { i: SRC_ID, t: "col.box", a: { "xml:base": "https://personium.example/pcell/__role/__/" } };
    expect(rewrite.meta(meta)).toEqual({
      i: DST_ID,
      t: "col.box",
      a: { "xml:base": "http://localhost:8080/c2/__role/__/" },
    });
  });

  it("gives the cell document the target's id, name, index and owner", () => {
    const sourceDoc = {
      _index: "u0_ad",
      _type: "Cell",
      _id: SRC_ID,
      _source: { s: { Name: "pcell" }, h: { Owner: "someone" }, p: 1, u: 2, d: { x: 1 } },
    };
    const targetDoc = { _index: "u0_ad", _id: DST_ID, _source: { s: { Name: "c2" }, h: { Owner: null } } };
    expect(rewrite.cellDocument(sourceDoc, targetDoc, 99)).toEqual({
      _index: "u0_ad",
      _type: "Cell",
      _id: DST_ID,
      _source: { s: { Name: "c2" }, h: { Owner: null }, p: 1, u: 99, d: { x: 1 } },
    });
    expect(sourceDoc._id).toBe(SRC_ID);
  });
});
