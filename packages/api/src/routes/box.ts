/**
 * The main box's WebDAV subset under `{CellURL}__/` (spec §9): MKCOL, PUT, GET (+HEAD,
 * Range), DELETE, PROPFIND Depth 0/1. Every method needs the cell's `root`; MKCOL,
 * PUT and DELETE are cell writes, refused (409) while an export/import holds the cell.
 * Uploads and downloads are streamed, never buffered whole.
 */
import { isValidResourceName, PersoniumError } from "@cellport/shared";
import type { ResourceStat } from "@cellport/store";
import { type Context, Hono } from "hono";
import { requireCellRoot } from "../auth/middleware.ts";
import { cellWriteLock } from "../cell/lock.ts";
import type { AppDeps } from "../deps.ts";
import { assertDeclaredLengthWithin, bodyAsNodeStream, readBodyText } from "../http/body.ts";
import type { AppEnv } from "../http/env.ts";
import { type FileFacts, serveFile } from "../http/file-response.ts";
import { defineResource } from "../http/resource.ts";
import { encodeSegment, rawPathOf, resourceUrlOf } from "../http/urls.ts";
import { fileGetDoc, filePutDoc, propfindDoc } from "../webdav/api-doc.ts";
import { parseDepth } from "../webdav/depth.ts";
import { type DavEntry, multistatusResponse, parsePropfindBody } from "../webdav/propfind.ts";
import { type BoxPath, boxPathOf, parentTreePath } from "../webdav/tree-path.ts";

const DEFAULT_CONTENT_TYPE = "application/octet-stream";

function targetOf(c: Context<AppEnv>): BoxPath {
  return boxPathOf(rawPathOf(c.req.raw), c.get("cell"));
}

function notFound(c: Context<AppEnv>): PersoniumError {
  return new PersoniumError("PR404-DV-0001", [resourceUrlOf(c.get("baseUrl"), c.req.raw)]);
}

/** The box root is the box itself: it cannot be replaced or deleted through WebDAV. */
function refuseRoot(target: BoxPath, allow: string): void {
  if (target.isRoot) throw new PersoniumError("PR405-MC-0001", [], { Allow: allow });
}

function hrefOf(cellUrl: string, treePath: string): string {
  return cellUrl + treePath.split("/").map(encodeSegment).join("/");
}

function davEntryOf(cellUrl: string, stat: ResourceStat): DavEntry {
  return {
    href: hrefOf(cellUrl, stat.path),
    collection: stat.isCollection,
    created: new Date(stat.meta.p),
    modified: new Date(stat.meta.u),
    contentLength: stat.size,
    contentType: stat.meta.ct ?? DEFAULT_CONTENT_TYPE,
  };
}

function resourceFacts(stat: ResourceStat): FileFacts {
  return {
    size: stat.size,
    etag: stat.etag,
    contentType: stat.meta.ct ?? DEFAULT_CONTENT_TYPE,
    updated: new Date(stat.meta.u),
  };
}

export function createBoxRoutes(deps: AppDeps): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  const { store, config } = deps;
  const lock = cellWriteLock(deps);
  const COLLECTION_ALLOW = "OPTIONS, GET, PUT, DELETE, MKCOL, PROPFIND";

  async function getFile(c: Context<AppEnv>): Promise<Response> {
    const target = targetOf(c);
    const cell = c.get("cell");
    const stat = await store.stat(cell, target.treePath);
    if (!stat) throw notFound(c);
    // Collections have no content to GET; PROPFIND lists them.
    if (stat.isCollection)
      throw new PersoniumError("PR405-MC-0001", [], { Allow: "OPTIONS, PROPFIND, MKCOL, DELETE" });
    return serveFile(c, stat, resourceFacts, (range) => store.openFile(cell, target.treePath, range));
  }

  /**
   * 403 PR403-DV-0004 for a resource about to be created under a name Personium refuses
   * (`isValidResourceName`), in Personium's order: PUT looks at the name first, MKCOL
   * at the parent first (a missing parent stays the store's 409). A resource that
   * exists is not being created, so its name is not checked. Only a refused name costs
   * the lookups.
   */
  async function refuseInvalidNewName(
    c: Context<AppEnv>,
    target: BoxPath,
    order: "name-first" | "parent-first",
  ) {
    const name = target.segments.at(-1);
    if (name === undefined || isValidResourceName(name)) return;
    const cell = c.get("cell");
    if (await store.stat(cell, target.treePath)) return;
    if (order === "parent-first") {
      const parent = await store.stat(cell, parentTreePath(target));
      if (!parent?.isCollection) return;
    }
    throw new PersoniumError("PR403-DV-0004");
  }

  async function putFile(c: Context<AppEnv>): Promise<Response> {
    const target = targetOf(c);
    refuseRoot(target, COLLECTION_ALLOW);
    await refuseInvalidNewName(c, target, "name-first");
    assertDeclaredLengthWithin(c.req.raw, config.maxUploadBytes);
    const ifMatch = c.req.header("if-match");
    const result = await store.putFile(c.get("cell"), target.treePath, bodyAsNodeStream(c.req.raw), {
      contentType: c.req.header("content-type") ?? DEFAULT_CONTENT_TYPE,
      maxBytes: config.maxUploadBytes,
      ...(ifMatch !== undefined ? { ifMatch } : {}),
    });
    return new Response(null, { status: result.created ? 201 : 204, headers: { ETag: result.etag } });
  }

  async function deleteResource(c: Context<AppEnv>): Promise<Response> {
    const target = targetOf(c);
    refuseRoot(target, COLLECTION_ALLOW);
    const ifMatch = c.req.header("if-match");
    await store.deleteResource(c.get("cell"), target.treePath, ifMatch !== undefined ? { ifMatch } : {});
    return new Response(null, { status: 204 });
  }

  async function makeCollection(c: Context<AppEnv>): Promise<Response> {
    const target = targetOf(c);
    await refuseInvalidNewName(c, target, "parent-first");
    await store.mkcol(c.get("cell"), target.treePath);
    return new Response(null, { status: 201 });
  }

  async function propfind(c: Context<AppEnv>): Promise<Response> {
    const depth = parseDepth(c.req.header("depth"));
    parsePropfindBody(await readBodyText(c.req.raw, config.maxJsonBytes));
    const target = targetOf(c);
    const cell = c.get("cell");
    const cellUrl = c.get("cellUrl");
    const stat = await store.stat(cell, target.treePath);
    if (!stat) throw notFound(c);
    const entries = [davEntryOf(cellUrl, stat)];
    if (depth === 1 && stat.isCollection) {
      for (const child of await store.list(cell, target.treePath)) entries.push(davEntryOf(cellUrl, child));
    }
    return multistatusResponse(entries);
  }

  // `/__/*` also matches `/{cell}/__` itself (the box root).
  defineResource(
    router,
    "/__/*",
    {
      GET: { ...fileGetDoc("Download a box file"), handler: getFile },
      PUT: {
        ...filePutDoc("Upload a box file", ["PR403-DV-0004", "PR405-MC-0001", "PR409-DV-0001"]),
        handler: [lock, putFile],
      },
      DELETE: {
        summary: "Delete a box file or an empty collection",
        headers: { "If-Match": "The current ETag or `*`" },
        responses: { 204: "Deleted" },
        errors: ["PR403-DV-0003", "PR404-DV-0001", "PR405-MC-0001", "PR409-CM-0002", "PR412-DV-0001"],
        handler: [lock, deleteResource],
      },
      MKCOL: {
        summary: "Create a collection",
        responses: { 201: "Created" },
        errors: ["PR403-DV-0004", "PR405-DV-0001", "PR409-CM-0002", "PR409-DV-0001"],
        handler: [lock, makeCollection],
      },
      PROPFIND: { ...propfindDoc("List a box collection or describe a file"), handler: propfind },
    },
    {
      guard: [requireCellRoot(deps)],
      doc: {
        tag: "box",
        access: "cell-root",
        params: {
          cell: "Cell name",
          path: "Path inside the main box (may contain `/`; empty for the box root)",
        },
      },
    },
  );
  return router;
}
