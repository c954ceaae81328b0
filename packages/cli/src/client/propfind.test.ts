import { describe, expect, it } from "vitest";
import { parseMultistatus } from "./propfind.ts";

describe("parseMultistatus", () => {
  it("reads Personium's unprefixed, pretty-printed DAV XML and skips the collection", () => {
    const xml = `<?xml version="1.0" encoding="utf-8" ?>
<multistatus xmlns="DAV:">
    <response>
        <href>http://localhost:8080/c1/__snapshot</href>
        <propstat><prop><resourcetype><collection/></resourcetype></prop></propstat>
    </response>
    <response>
        <href>http://localhost:8080/c1/__snapshot/c1_20240101_000000.zip</href>
        <propstat>
            <prop>
                <creationdate>2024-01-01T00:00:00.000Z</creationdate>
                <getcontentlength>1234</getcontentlength>
                <getcontenttype>application/zip</getcontenttype>
                <getlastmodified>Mon, 01 Jan 2024 00:00:00 GMT</getlastmodified>
                <resourcetype/>
            </prop>
            <status>HTTP/1.1 200 OK</status>
        </propstat>
    </response>
</multistatus>`;
    expect(parseMultistatus(xml)).toEqual([
      {
        name: "c1_20240101_000000.zip",
        href: "http://localhost:8080/c1/__snapshot/c1_20240101_000000.zip",
        size: 1234,
        contentType: "application/zip",
        created: "2024-01-01T00:00:00.000Z",
        modified: "Mon, 01 Jan 2024 00:00:00 GMT",
        etag: undefined,
      },
    ]);
  });

  it("reads D:-prefixed XML and decodes names", () => {
    const xml =
      '<D:multistatus xmlns:D="DAV:"><D:response><D:href>/c1/__snapshot/</D:href></D:response>' +
      "<D:response><D:href>/c1/__snapshot/a%20b&amp;c.zip</D:href><D:propstat><D:prop>" +
      '<D:getcontentlength>7</D:getcontentlength><D:getetag>"1-2"</D:getetag></D:prop></D:propstat></D:response></D:multistatus>';
    expect(parseMultistatus(xml)).toMatchObject([{ name: "a b&c.zip", size: 7, etag: '"1-2"' }]);
  });
});
