/**
 * The cell's snapshot area (spec §6), every method root-only:
 *   PROPFIND {CellURL}__snapshot              Depth 0/1 → 207 (the area, and its files)
 *   PROPFIND {CellURL}__snapshot/{FileName}   → 207
 *   GET      {CellURL}__snapshot/{FileName}   → 200/206/304, streamed
 *   PUT      {CellURL}__snapshot/{FileName}   → 201/204 + ETag (cell write: 409 while locked)
 *   DELETE   {CellURL}__snapshot/{FileName}   → 204 (cell write)
 *   REPORT   {CellURL}__snapshot/{FileName}   → 501 PR501-MC-0001
 *
 * `FileName` is taken from the raw path and must be exactly one clean segment: an
 * encoded `/` or `\`, NUL, `..` or a second segment never reach the store (which
 * checks again, and only ever resolves names inside the cell's own area).
 */
import { PersoniumError } from "@cellport/shared";
import type { SnapshotStat } from "@cellport/store";
import { type Context, Hono } from "hono";
import { requireCellRoot } from "../auth/middleware.ts";
import { cellWriteLock } from "../cell/lock.ts";
import type { AppDeps } from "../deps.ts";
import { describeRoute } from "../http/api-doc.ts";
import { assertDeclaredLengthWithin, bodyAsNodeStream, readBodyText } from "../http/body.ts";
import type { AppEnv } from "../http/env.ts";
import { type FileFacts, serveFile } from "../http/file-response.ts";
import { defineResource } from "../http/resource.ts";
import { encodeSegment, rawPathOf } from "../http/urls.ts";
import { fileGetDoc, filePutDoc, propfindDoc } from "../webdav/api-doc.ts";
import { parseDepth } from "../webdav/depth.ts";
import { type DavEntry, multistatusResponse, parsePropfindBody } from "../webdav/propfind.ts";
import { decodeSegment } from "../webdav/tree-path.ts";

export const SNAPSHOT_DIR = "__snapshot";

/** The decoded `FileName` of a file request, or 400 PR400-DV-9001 naming the raw path. */
function fileNameOf(c: Context<AppEnv>): { name: string; url: string } {
  const rawPath = rawPathOf(c.req.raw);
  const prefix = `/${c.get("cell")}/${SNAPSHOT_DIR}/`;
  const raw = rawPath.startsWith(prefix) ? rawPath.slice(prefix.length) : "";
  const name = raw.includes("/") ? null : decodeSegment(raw);
  if (name === null) throw new PersoniumError("PR400-DV-9001", [rawPath]);
  return { name, url: fileUrlOf(c.get("cellUrl"), name) };
}

function fileUrlOf(cellUrl: string, name: string): string {
  return `${cellUrl}${SNAPSHOT_DIR}/${encodeSegment(name)}`;
}

function notFound(url: string): PersoniumError {
  return new PersoniumError("PR404-DV-0001", [url]);
}

function davEntryOf(cellUrl: string, stat: SnapshotStat): DavEntry {
  return {
    href: fileUrlOf(cellUrl, stat.name),
    collection: false,
    created: stat.created,
    modified: stat.updated,
    contentLength: stat.size,
    contentType: stat.contentType,
  };
}

function snapshotFacts(stat: SnapshotStat): FileFacts {
  return { size: stat.size, etag: stat.etag, contentType: stat.contentType, updated: stat.updated };
}

export function createSnapshotRoutes(deps: AppDeps): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  const { store, config } = deps;
  const guard = [requireCellRoot(deps)];
  const lock = cellWriteLock(deps);

  async function readPropfindRequest(c: Context<AppEnv>) {
    const depth = parseDepth(c.req.header("depth"));
    parsePropfindBody(await readBodyText(c.req.raw, config.maxJsonBytes));
    return depth;
  }

  async function propfindArea(c: Context<AppEnv>): Promise<Response> {
    const depth = await readPropfindRequest(c);
    const cell = c.get("cell");
    const cellUrl = c.get("cellUrl");
    const [document, files] = await Promise.all([store.getCell(cell), store.snapshots.list(cell)]);
    if (!document) throw new PersoniumError("PR404-DV-0003");
    // The area has no dates of its own: it was made with the cell and changes with its files.
    const modified = files.reduce((latest, f) => Math.max(latest, f.updated.getTime()), document.updated);
    const entries: DavEntry[] = [
      {
        href: `${cellUrl}${SNAPSHOT_DIR}`,
        collection: true,
        created: new Date(document.published),
        modified: new Date(modified),
      },
    ];
    if (depth === 1) for (const file of files) entries.push(davEntryOf(cellUrl, file));
    return multistatusResponse(entries);
  }

  async function propfindFile(c: Context<AppEnv>): Promise<Response> {
    await readPropfindRequest(c);
    const { name, url } = fileNameOf(c);
    const stat = await store.snapshots.stat(c.get("cell"), name);
    if (!stat) throw notFound(url);
    return multistatusResponse([davEntryOf(c.get("cellUrl"), stat)]);
  }

  async function getFile(c: Context<AppEnv>): Promise<Response> {
    const { name, url } = fileNameOf(c);
    const cell = c.get("cell");
    const stat = await store.snapshots.stat(cell, name);
    if (!stat) throw notFound(url);
    return serveFile(c, stat, snapshotFacts, (range) => store.snapshots.open(cell, name, range));
  }

  async function putFile(c: Context<AppEnv>): Promise<Response> {
    const { name } = fileNameOf(c);
    assertDeclaredLengthWithin(c.req.raw, config.maxUploadBytes);
    const ifMatch = c.req.header("if-match");
    const contentType = c.req.header("content-type");
    const result = await store.snapshots.put(c.get("cell"), name, bodyAsNodeStream(c.req.raw), {
      maxBytes: config.maxUploadBytes,
      ...(contentType !== undefined ? { contentType } : {}),
      ...(ifMatch !== undefined ? { ifMatch } : {}),
    });
    return new Response(null, { status: result.created ? 201 : 204, headers: { ETag: result.etag } });
  }

  async function deleteFile(c: Context<AppEnv>): Promise<Response> {
    const { name } = fileNameOf(c);
    const ifMatch = c.req.header("if-match");
    // A missing file is the store's NotFoundError: 404 PR404-DV-0001 naming this URL.
    await store.snapshots.delete(c.get("cell"), name, ifMatch !== undefined ? { ifMatch } : {});
    return new Response(null, { status: 204 });
  }

  const areaDoc = { tag: "snapshot", access: "cell-root", params: { cell: "Cell name" } } as const;
  const fileDoc = { ...areaDoc, params: { ...areaDoc.params, path: "`FileName`: one path segment" } };
  // The area, with and without a trailing slash; registered before `/*`, which matches them too.
  for (const path of [`/${SNAPSHOT_DIR}`, `/${SNAPSHOT_DIR}/`]) {
    defineResource(
      router,
      path,
      { PROPFIND: { ...propfindDoc("List the snapshot files (Depth 1)"), handler: propfindArea } },
      { guard, doc: areaDoc },
    );
  }
  // Declared outside the resource so that `Allow` stays the spec's list; like a 405 it
  // says nothing about the cell, so it needs no auth.
  router.on(
    "REPORT",
    `/${SNAPSHOT_DIR}/*`,
    describeRoute(
      {
        operations: { REPORT: { summary: "Not implemented", responses: {}, errors: ["PR501-MC-0001"] } },
        doc: { ...fileDoc, access: "none" },
      },
      function reportNotImplemented() {
        throw new PersoniumError("PR501-MC-0001");
      },
    ),
  );
  defineResource(
    router,
    `/${SNAPSHOT_DIR}/*`,
    {
      GET: { ...fileGetDoc("Download a snapshot file"), handler: getFile },
      PUT: { ...filePutDoc("Upload a snapshot file", ["PR400-DV-9001"]), handler: [lock, putFile] },
      DELETE: {
        summary: "Delete a snapshot file",
        headers: { "If-Match": "The current ETag or `*`" },
        responses: { 204: "Deleted" },
        errors: ["PR400-DV-9001", "PR404-DV-0001", "PR409-CM-0002", "PR412-DV-0001"],
        handler: [lock, deleteFile],
      },
      PROPFIND: { ...propfindDoc("Describe a snapshot file"), handler: propfindFile },
    },
    { guard, doc: fileDoc },
  );
  return router;
}
