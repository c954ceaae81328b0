/** How the WebDAV methods both file trees serve (box, snapshot area) read in the API document. */
import type { ErrorCode } from "@cellport/shared";
import type { OperationDoc } from "../http/api-doc.ts";

/** PROPFIND (spec §6): Depth 0 or 1, an optional XML body, a 207 in Personium's XML shape. */
export function propfindDoc(summary: string): OperationDoc {
  return {
    summary,
    description:
      "207 multistatus in Personium's shape: default `DAV:` namespace, unprefixed, indented; per resource " +
      "`href`, `creationdate`, `getcontentlength`, `getcontenttype`, `getlastmodified` (RFC 1123), `resourcetype`.",
    headers: { Depth: "`0` or `1` (required; `infinity` is refused)" },
    rawBody: {
      mediaType: "application/xml",
      description: "An optional `propfind` document (allprop is assumed)",
    },
    responses: { 207: { description: "Multistatus", content: { "application/xml": { type: "string" } } } },
    errors: ["PR400-DV-0001", "PR400-DV-0003", "PR403-DV-0001", "PR404-DV-0001", "PR413-DV-0001"],
  };
}

/** GET of a stored file: streamed, conditional, ranged. */
export function fileGetDoc(summary: string): OperationDoc {
  return {
    summary,
    description:
      "Streamed with `Content-Length`, `ETag`, `Last-Modified`, `Accept-Ranges: bytes`. `If-None-Match` equal to " +
      "the ETag → 304 (`*` is not a match); `Range` → 206. HEAD sends the headers only.",
    headers: { "If-None-Match": "An ETag", Range: "`bytes=start-end`, `bytes=start-` or `bytes=-suffix`" },
    responses: {
      200: {
        description: "The file",
        content: { "application/octet-stream": {} },
        headers: { ETag: "Its ETag" },
      },
      206: { description: "The requested range", headers: { "Content-Range": "`bytes start-end/size`" } },
      304: "Not modified",
    },
    errors: ["PR404-DV-0001", "PR416-DV-0001"],
  };
}

/** PUT of a file: created or replaced through a temp file, with `If-Match`. */
export function filePutDoc(summary: string, moreErrors: readonly ErrorCode[] = []): OperationDoc {
  return {
    summary,
    description: "Written to a temp file then renamed: a reader never sees half a file.",
    headers: { "If-Match": "The current ETag or `*`", "Content-Type": "Stored and served back" },
    rawBody: { mediaType: "application/octet-stream", description: "The content", required: true },
    responses: {
      201: { description: "Created", headers: { ETag: "The new ETag" } },
      204: { description: "Replaced", headers: { ETag: "The new ETag" } },
    },
    errors: ["PR409-CM-0002", "PR412-DV-0001", "PR413-DV-0001", ...moreErrors],
  };
}
