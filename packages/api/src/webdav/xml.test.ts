import { describe, expect, it } from "vitest";
import { parseXml, XmlSyntaxError } from "./xml.ts";

describe("parseXml", () => {
  it("parses a PROPFIND with prefixes, default namespaces, comments, PIs and references", () => {
    const root = parseXml(
      `\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><?pi x?>\n<D:propfind xmlns:D="DAV:" xmlns:p="urn:x" a='1'>` +
        `<D:prop><p:owner/><getetag xmlns="DAV:">&lt;&#65;&#x42;<![CDATA[<raw>]]></getetag></D:prop></D:propfind>\n`,
    );
    expect(root).toMatchObject({ qname: "D:propfind", localName: "propfind", namespace: "DAV:" });
    const prop = root.children[0];
    expect(prop?.namespace).toBe("DAV:");
    expect(prop?.children.map((c) => [c.namespace, c.localName])).toEqual([
      ["urn:x", "owner"],
      ["DAV:", "getetag"],
    ]);
    expect(prop?.children[1]?.text).toBe("<AB<raw>");
    expect(root.attributes.get("a")).toBe("1");
  });

  const malformed: Record<string, string> = {
    "empty document": "",
    "text only": "hello",
    "unclosed element": "<a><b></b>",
    "mismatched end tag": "<a></b>",
    "two roots": "<a/><b/>",
    "content after root": "<a/>text",
    "undeclared prefix": "<D:propfind/>",
    "undeclared entity": "<a>&nbsp;</a>",
    "bare ampersand": "<a>fish & chips</a>",
    "DOCTYPE (no entity expansion, no XXE)":
      '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    "duplicate attribute": '<a x="1" x="2"/>',
    "duplicate expanded attribute": '<a xmlns:p="u" xmlns:q="u" p:x="1" q:x="2"/>',
    "unquoted attribute": "<a x=1/>",
    "missing whitespace between attributes": '<a x="1"y="2"/>',
    "< in attribute": '<a x="<"/>',
    "late XML declaration": '<a/><?xml version="1.0"?>',
    "double hyphen in comment": "<a><!-- a -- b --></a>",
    "]]> in text": "<a>]]></a>",
    "invalid character reference": "<a>&#0;</a>",
    "control character": "<a>\u0001</a>",
    "unterminated CDATA": "<a><![CDATA[x</a>",
    "xmlns:p empty": '<p:a xmlns:p=""/>',
    "bad name": "<1a/>",
    truncated: '<D:propfind xmlns:D="DAV:"><D:prop>',
  };
  for (const [label, text] of Object.entries(malformed)) {
    it(`refuses ${label}`, () => {
      expect(() => parseXml(text)).toThrow(XmlSyntaxError);
    });
  }

  it("bounds nesting depth without recursion", () => {
    const deep = `${"<a>".repeat(100)}${"</a>".repeat(100)}`;
    expect(() => parseXml(deep)).toThrow(/nested too deeply/);
    const huge = `${"<a>".repeat(50_000)}`;
    expect(() => parseXml(huge, { maxDepth: 100_000, maxElements: 100 })).toThrow(/too many elements/);
  });
});
