/**
 * PROPFIND: the request body check and the 207 multistatus writer, shared by the box
 * routes and `__snapshot`.
 *
 * The XML copies Personium's shape on purpose (spec §6): the DAV namespace as the
 * *default* namespace, unprefixed (`<multistatus xmlns="DAV:"><response><href>…`),
 * pretty-printed with 4-space indentation. Personium's own clients look elements up
 * by plain tag name and some walk child nodes by position, so a `D:` prefix or
 * compact output breaks them.
 */
import { PersoniumError } from "@cellport/shared";
import { parseXml, XmlSyntaxError } from "./xml.ts";

export const DAV_NS = "DAV:";
export const MULTISTATUS_CONTENT_TYPE = "application/xml";

export type PropfindRequest =
  | { kind: "allprop" }
  | { kind: "propname" }
  | { kind: "prop"; props: Array<{ namespace: string; name: string }> };

/**
 * Validates a PROPFIND body. Empty means allprop (RFC 4918 §9.1). Anything that is
 * not a well-formed `{DAV:}propfind` document is 400 PR400-DV-0001 "XML parse error.".
 * The answer lists the same live properties whatever was asked for, as Personium does.
 */
export function parsePropfindBody(text: string): PropfindRequest {
  if (text.trim() === "") return { kind: "allprop" };
  let root: ReturnType<typeof parseXml>;
  try {
    root = parseXml(text);
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw new PersoniumError("PR400-DV-0001");
    throw error;
  }
  if (root.namespace !== DAV_NS || root.localName !== "propfind") throw new PersoniumError("PR400-DV-0001");
  for (const child of root.children) {
    if (child.namespace !== DAV_NS) continue;
    if (child.localName === "allprop") return { kind: "allprop" };
    if (child.localName === "propname") return { kind: "propname" };
    if (child.localName === "prop") {
      return {
        kind: "prop",
        props: child.children.map((p) => ({ namespace: p.namespace, name: p.localName })),
      };
    }
  }
  return { kind: "allprop" };
}

/** One `<response>` of a multistatus. */
export interface DavEntry {
  /** Absolute, already percent-encoded URL. */
  href: string;
  collection: boolean;
  created: Date;
  modified: Date;
  /** Files only. */
  contentLength?: number;
  contentType?: string;
}

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const INDENT = "    ";

function entryXml(entry: DavEntry): string[] {
  const i = (depth: number) => INDENT.repeat(depth);
  const props = [`${i(4)}<creationdate>${entry.created.toISOString()}</creationdate>`];
  if (!entry.collection) {
    props.push(`${i(4)}<getcontentlength>${entry.contentLength ?? 0}</getcontentlength>`);
    props.push(
      `${i(4)}<getcontenttype>${escapeXml(entry.contentType ?? "application/octet-stream")}</getcontenttype>`,
    );
  }
  // RFC 1123 date, e.g. "Mon, 13 Feb 2017 09:00:00 GMT".
  props.push(`${i(4)}<getlastmodified>${entry.modified.toUTCString()}</getlastmodified>`);
  if (entry.collection) {
    props.push(`${i(4)}<resourcetype>`, `${i(5)}<collection/>`, `${i(4)}</resourcetype>`);
  } else {
    props.push(`${i(4)}<resourcetype/>`);
  }
  return [
    `${i(1)}<response>`,
    `${i(2)}<href>${escapeXml(entry.href)}</href>`,
    `${i(2)}<propstat>`,
    `${i(3)}<prop>`,
    ...props,
    `${i(3)}</prop>`,
    `${i(3)}<status>HTTP/1.1 200 OK</status>`,
    `${i(2)}</propstat>`,
    `${i(1)}</response>`,
  ];
}

export function multistatusXml(entries: readonly DavEntry[]): string {
  return [
    '<?xml version="1.0" encoding="utf-8" standalone="no"?>',
    `<multistatus xmlns="${DAV_NS}">`,
    ...entries.flatMap(entryXml),
    "</multistatus>",
    "",
  ].join("\n");
}

/** 207 Multi-Status with the body above. */
export function multistatusResponse(entries: readonly DavEntry[]): Response {
  return new Response(multistatusXml(entries), {
    status: 207,
    headers: { "Content-Type": MULTISTATUS_CONTENT_TYPE },
  });
}
