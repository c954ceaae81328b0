/**
 * GET/HEAD of a stored file, the same for box files and snapshot files: 304 on an
 * equal ETag only (`If-None-Match: *` is not a match, spec §6), `Range` → 206 or 416,
 * HEAD without opening the file, and a streamed body that is never buffered whole.
 */
import type { Readable } from "node:stream";
import { Readable as NodeReadable } from "node:stream";
import type { Context } from "hono";
import type { AppEnv } from "./env.ts";
import { ifNoneMatchHits } from "./etag.ts";
import { rangeDecision, rangeNotSatisfiable } from "./range.ts";

/** What the response headers need to know of a stored file. */
export interface FileFacts {
  size: number;
  etag: string;
  contentType: string;
  updated: Date;
}

function headersOf(file: FileFacts): Record<string, string> {
  return {
    "Content-Type": file.contentType,
    ETag: file.etag,
    "Last-Modified": file.updated.toUTCString(),
    "Accept-Ranges": "bytes",
  };
}

export async function serveFile<S>(
  c: Context<AppEnv>,
  stat: S,
  facts: (stat: S) => FileFacts,
  open: (range: { start: number; end: number } | undefined) => Promise<{ stat: S; stream: Readable }>,
): Promise<Response> {
  const file = facts(stat);
  if (ifNoneMatchHits(c.req.header("if-none-match"), file.etag)) {
    return new Response(null, { status: 304, headers: { ETag: file.etag } });
  }
  const range = rangeDecision(c.req.raw, file.size, file.etag);
  if (range.kind === "unsatisfiable") throw rangeNotSatisfiable(file.size);
  if (c.req.method === "HEAD") {
    // Never open the file for HEAD: Hono drops the body, which would leak the descriptor.
    return new Response(null, {
      status: 200,
      headers: { ...headersOf(file), "Content-Length": String(file.size) },
    });
  }
  const partial = range.kind === "partial" ? { start: range.start, end: range.end } : undefined;
  // Headers come from what `open` paired with the stream: the file may have been replaced since the stat.
  const opened = await open(partial);
  const served = facts(opened.stat);
  const headers = headersOf(served);
  if (partial) {
    const end = Math.min(partial.end, served.size - 1);
    headers["Content-Length"] = String(end - partial.start + 1);
    headers["Content-Range"] = `bytes ${partial.start}-${end}/${served.size}`;
  } else {
    headers["Content-Length"] = String(served.size);
  }
  const body = NodeReadable.toWeb(opened.stream) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status: partial ? 206 : 200, headers });
}
