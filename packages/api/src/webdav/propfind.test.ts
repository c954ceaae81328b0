import { PersoniumError } from "@cellport/shared";
import { describe, expect, it } from "vitest";
import { parseDepth } from "./depth.ts";
import { multistatusXml, parsePropfindBody } from "./propfind.ts";

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof PersoniumError ? `${error.status} ${error.code} ${error.message}` : String(error);
  }
  return undefined;
}

describe("parseDepth", () => {
  it("accepts 0 and 1", () => {
    expect(parseDepth("0")).toBe(0);
    expect(parseDepth("1")).toBe(1);
  });
  it("refuses missing, infinite and other values with Personium's codes", () => {
    expect(codeOf(() => parseDepth(undefined))).toBe("400 PR400-DV-0003 Invalid depth header value:[null].");
    expect(codeOf(() => parseDepth(null))).toBe("400 PR400-DV-0003 Invalid depth header value:[null].");
    expect(codeOf(() => parseDepth("infinity"))).toBe("403 PR403-DV-0001 Infinite depth is not supported.");
    expect(codeOf(() => parseDepth("Infinity"))).toBe("403 PR403-DV-0001 Infinite depth is not supported.");
    expect(codeOf(() => parseDepth("2"))).toBe("400 PR400-DV-0003 Invalid depth header value:[2].");
    expect(codeOf(() => parseDepth(""))).toBe("400 PR400-DV-0003 Invalid depth header value:[].");
  });
});

describe("parsePropfindBody", () => {
  it("reads an empty body as allprop", () => {
    expect(parsePropfindBody("")).toEqual({ kind: "allprop" });
    expect(parsePropfindBody(" \n")).toEqual({ kind: "allprop" });
  });
  it("accepts allprop, propname and prop in any prefix", () => {
    expect(parsePropfindBody('<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>')).toEqual({
      kind: "allprop",
    });
    expect(parsePropfindBody('<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>')).toEqual({
      kind: "propname",
    });
    expect(
      parsePropfindBody('<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'),
    ).toEqual({
      kind: "prop",
      props: [{ namespace: "DAV:", name: "getetag" }],
    });
  });
  it("answers PR400-DV-0001 for malformed XML or another root", () => {
    for (const body of [
      "<propfind",
      "not xml",
      '<propfind xmlns="urn:other"/>',
      "<propfind/>",
      '<prop xmlns="DAV:"/>',
    ]) {
      expect(codeOf(() => parsePropfindBody(body))).toBe("400 PR400-DV-0001 XML parse error.");
    }
  });
});

describe("multistatusXml", () => {
  it("writes Personium's shape: default DAV namespace, unprefixed, 4-space indented", () => {
    const created = new Date(Date.UTC(2017, 1, 13, 9, 0, 0));
    const xml = multistatusXml([
      { href: "http://h/c1/__snapshot", collection: true, created, modified: created },
      {
        href: "http://h/c1/__snapshot/a&b.zip",
        collection: false,
        created,
        modified: created,
        contentLength: 5160,
        contentType: "application/zip",
      },
    ]);
    expect(xml).toBe(
      [
        '<?xml version="1.0" encoding="utf-8" standalone="no"?>',
        '<multistatus xmlns="DAV:">',
        "    <response>",
        "        <href>http://h/c1/__snapshot</href>",
        "        <propstat>",
        "            <prop>",
        "                <creationdate>2017-02-13T09:00:00.000Z</creationdate>",
        "                <getlastmodified>Mon, 13 Feb 2017 09:00:00 GMT</getlastmodified>",
        "                <resourcetype>",
        "                    <collection/>",
        "                </resourcetype>",
        "            </prop>",
        "            <status>HTTP/1.1 200 OK</status>",
        "        </propstat>",
        "    </response>",
        "    <response>",
        "        <href>http://h/c1/__snapshot/a&amp;b.zip</href>",
        "        <propstat>",
        "            <prop>",
        "                <creationdate>2017-02-13T09:00:00.000Z</creationdate>",
        "                <getcontentlength>5160</getcontentlength>",
        "                <getcontenttype>application/zip</getcontenttype>",
        "                <getlastmodified>Mon, 13 Feb 2017 09:00:00 GMT</getlastmodified>",
        "                <resourcetype/>",
        "            </prop>",
        "            <status>HTTP/1.1 200 OK</status>",
        "        </propstat>",
        "    </response>",
        "</multistatus>",
        "",
      ].join("\n"),
    );
  });
});
